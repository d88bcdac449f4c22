"""Projects (Xero's Projects API): projects, their users, and each project's tasks and time entries.

Full table: the Projects API carries no modification timestamp (``dateAfterUtc`` filters time entries on the
day the work was done, not on when an entry changed). Tasks and time entries are read project by project:
one call per project each (500 a page), after one call per 500 projects for the list. Not selected by
default for that reason (docs/streams.md: what a run costs).
"""

from __future__ import annotations

from tap_xero import endpoints
from tap_xero.client import XeroStream


class ProjectsStream(XeroStream):
    name = "projects"
    endpoint = endpoints.PROJECTS
    primary_keys = ("tenant_id", "projectId")
    replication_key = None


class ProjectUsersStream(XeroStream):
    name = "project_users"
    endpoint = endpoints.PROJECT_USERS
    primary_keys = ("tenant_id", "userId")
    replication_key = None


class ProjectTasksStream(XeroStream):
    name = "project_tasks"
    endpoint = endpoints.PROJECT_TASKS
    primary_keys = ("tenant_id", "taskId")
    replication_key = None
    selected_by_default = False


class ProjectTimeEntriesStream(XeroStream):
    name = "project_time_entries"
    endpoint = endpoints.PROJECT_TIME_ENTRIES
    primary_keys = ("tenant_id", "timeEntryId")
    replication_key = None
    selected_by_default = False


STREAMS = (ProjectsStream, ProjectUsersStream, ProjectTasksStream, ProjectTimeEntriesStream)
