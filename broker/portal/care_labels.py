"""The reader's names for the codes of special groups and care plans (the groups' own
names are text codes of the registry, shown with ``|label('special_group')``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

GROUP_SOURCES = {
    "survey": _l("Door-to-door survey"),
    "visit": _l("Found on a visit"),
    "civil_affairs": _l("Civil-affairs list"),
    "self_report": _l("The family's own word"),
}
CARER_ROLES = {"mentor": _l("Dream mentor"), "doctor": _l("Family doctor"), "volunteer": _l("Volunteer")}
PLAN_KINDS = {"mentor": _l("Mentor"), "doctor_volunteer": _l("Family doctor and volunteer")}
SCHEDULES = {"weekly": _l("Weekly"), "fortnightly": _l("Every two weeks"), "monthly": _l("Monthly")}
PLAN_STATUSES = {"active": _l("Active"), "ended": _l("Ended")}
CONTACT_CHANNELS = {
    "visit": _l("Home visit"),
    "phone": _l("Phone call"),
    "video": _l("Video call"),
    "camp": _l("At a growth camp"),
}
LABELS = {
    "group_source": GROUP_SOURCES,
    "carer_role": CARER_ROLES,
    "plan_kind": PLAN_KINDS,
    "schedule": SCHEDULES,
    "plan_status": PLAN_STATUSES,
    "contact_channel": CONTACT_CHANNELS,
}
