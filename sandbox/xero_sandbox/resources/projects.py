"""Projects (the Projects API): projects for contacts, the users who log time, tasks and time entries.

Generated: the project users are the organisation's users; ``max(4, scale/50)`` projects, each for a customer
of the contacts, in the base currency, every fourth CLOSED; each project has 1 to 4 tasks (mostly charged by
TIME at an hourly rate, some FIXED, some NON_CHARGEABLE) and 0 to 8 time entries by the project users on its
tasks over the two generated years. In a closed project every chargeable entry is INVOICED; in the others the
older half are. Tasks and projects carry the totals of their entries (minutes, amounts invoiced and to be
invoiced), so the figures agree with the entries served.

List filters: projects ``states`` (INPROGRESS, CLOSED), ``projectIds``, ``contactID``; tasks ``taskIds``,
``chargeType``; time entries ``states``, ``userId``, ``taskId``, ``dateAfterUtc``, ``dateBeforeUtc`` (on
``dateUtc``, inclusive).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from xero_sandbox.core.generation import COLLECTION_CODES, DATE_SPAN_DAYS, FIRST_DAY, Draw, money
from xero_sandbox.core.other_apis import ApiCollection
from xero_sandbox.core.tenant_data import TenantData
from xero_sandbox.resources import contacts

CHARGE_TYPES = ("TIME", "TIME", "FIXED", "NON_CHARGEABLE")


def _amount(org: TenantData, cents: int) -> dict:
    return {"currency": org.base_currency, "value": money(cents)}


def _utc(day: int, minute: int = 9 * 60) -> str:
    moment = datetime.combine(date.fromordinal(day), datetime.min.time()) + timedelta(minutes=minute)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def project_users(org: TenantData) -> list[dict]:
    return [{"userId": user["UserID"], "name": f"{user['FirstName']} {user['LastName']}",
             "email": user["EmailAddress"]} for user in org.users]


def _project(org: TenantData, k: int, n: int) -> tuple[dict, list[dict], list[dict]]:
    """Project ``k`` of ``n`` with its tasks and time entries, their totals adding up."""
    draw = Draw(org.key, COLLECTION_CODES["Projects"], k)
    project_id, closed = org.ident("Projects", k), k % 4 == 3
    start = FIRST_DAY + k * (DATE_SPAN_DAYS - 90) // max(n, 1)
    tasks = []
    for t in range(1 + draw.below(4)):
        charge = CHARGE_TYPES[draw.below(len(CHARGE_TYPES))]
        tasks.append({"taskId": org.ident("ProjectTasks", k * 8 + t), "name": f"Task {t + 1} of project {k + 1}",
                      "rate": 0 if charge == "NON_CHARGEABLE" else 5_000 + draw.below(15_000), "chargeType": charge,
                      "estimateMinutes": 60 * (2 + draw.below(40)), "projectId": project_id})
    count = draw.below(9)
    entries = []
    for e in range(count):
        task = tasks[draw.below(len(tasks))]
        day = start + draw.below(85)
        invoiced = task["chargeType"] != "NON_CHARGEABLE" and (closed or e < count // 2)
        entries.append({
            "timeEntryId": org.ident("ProjectTimeEntries", k * 8 + e),
            "userId": org.users[draw.below(len(org.users))]["UserID"],
            "projectId": project_id, "taskId": task["taskId"], "dateUtc": _utc(day),
            "dateEnteredUtc": _utc(day + draw.below(3), 17 * 60 + draw.below(120)),
            "duration": 15 * (1 + draw.below(32)),
            "description": f"Work on {task['name']}", "status": "INVOICED" if invoiced else "ACTIVE",
        })
    served_tasks = [_task_totals(org, task, entries) for task in tasks]
    project = {
        "projectId": project_id, "contactId": org.ident("Contacts", contacts.pick_contact(org, draw.next(), True)),
        "name": f"Project {k + 1}", "currencyCode": org.base_currency, "deadlineUtc": _utc(start + 120, 17 * 60),
        "status": "CLOSED" if closed else "INPROGRESS",
    }
    project.update(_project_totals(org, served_tasks, entries, draw.below(5_000_000)))
    return project, served_tasks, entries


def _task_totals(org: TenantData, task: dict, entries: list[dict]) -> dict:
    mine = [e for e in entries if e["taskId"] == task["taskId"]]
    minutes = sum(e["duration"] for e in mine)
    invoiced = sum(e["duration"] for e in mine if e["status"] == "INVOICED")
    rate, charge = task["rate"], task["chargeType"]

    def cost(m: int) -> int:
        return rate * m // 60 if charge == "TIME" else 0

    fixed = rate if charge == "FIXED" else 0
    return {
        **task, "rate": _amount(org, rate), "totalMinutes": minutes, "totalAmount": _amount(org, cost(minutes) + fixed),
        "minutesInvoiced": invoiced, "minutesToBeInvoiced": minutes - invoiced if charge == "TIME" else 0,
        "fixedMinutes": minutes if charge == "FIXED" else 0,
        "nonChargeableMinutes": minutes if charge == "NON_CHARGEABLE" else 0,
        "amountToBeInvoiced": _amount(org, cost(minutes - invoiced) + (fixed if not invoiced else 0)),
        "amountInvoiced": _amount(org, cost(invoiced) + (fixed if invoiced else 0)),
        "status": "INVOICED" if minutes and invoiced == minutes and charge != "NON_CHARGEABLE" else "ACTIVE",
    }


def _project_totals(org: TenantData, tasks: list[dict], entries: list[dict], estimate: int) -> dict:
    def total(field: str) -> int:
        return sum(int(task[field]["value"] * 100) for task in tasks)

    invoiced, to_invoice = total("amountInvoiced"), total("amountToBeInvoiced")
    zero = _amount(org, 0)
    return {
        "minutesLogged": sum(e["duration"] for e in entries),
        "minutesToBeInvoiced": sum(task["minutesToBeInvoiced"] for task in tasks),
        "totalTaskAmount": _amount(org, total("totalAmount")), "totalExpenseAmount": zero,
        "estimateAmount": _amount(org, estimate), "estimate": _amount(org, estimate),
        "taskAmountToBeInvoiced": _amount(org, to_invoice), "taskAmountInvoiced": _amount(org, invoiced),
        "expenseAmountToBeInvoiced": zero, "expenseAmountInvoiced": zero,
        "projectAmountInvoiced": _amount(org, invoiced), "deposit": zero, "depositApplied": zero,
        "creditNoteAmount": zero, "totalInvoiced": _amount(org, invoiced),
        "totalToBeInvoiced": _amount(org, to_invoice),
    }


def _all(org: TenantData) -> tuple[list[dict], list[dict], list[dict]]:
    cached = org.api_records.get("_projects")
    if cached is None:
        n = max(4, org.scale // 50)
        built = [_project(org, k, n) for k in range(n)]
        cached = org.api_records["_projects"] = [
            [p for p, _, _ in built], [t for _, ts, _ in built for t in ts], [e for _, _, es in built for e in es]]
    return cached[0], cached[1], cached[2]


def _in(field: str, upper: bool = False):
    def match(record: dict, value: str) -> bool:
        wanted = {v.strip().upper() if upper else v.strip().lower() for v in value.split(",") if v.strip()}
        got = str(record.get(field))
        return (got.upper() if upper else got.lower()) in wanted
    return match


def _on_or_after(record: dict, value: str) -> bool:
    return record["dateUtc"] >= _moment(value)


def _on_or_before(record: dict, value: str) -> bool:
    return record["dateUtc"] <= _moment(value)


def _moment(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"'{value}' is not an ISO 8601 date") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


COLLECTIONS = (
    ApiCollection("Projects", lambda org: _all(org)[0], filters={
        "states": _in("status", upper=True), "projectids": _in("projectId"), "contactid": _in("contactId")}),
    ApiCollection("ProjectUsers", project_users),
    ApiCollection("ProjectTasks", lambda org: _all(org)[1], filters={
        "taskids": _in("taskId"), "chargetype": _in("chargeType", upper=True)}),
    ApiCollection("ProjectTimeEntries", lambda org: _all(org)[2], filters={
        "states": _in("status", upper=True), "userid": _in("userId"), "taskid": _in("taskId"),
        "dateafterutc": _on_or_after, "datebeforeutc": _on_or_before}),
)
