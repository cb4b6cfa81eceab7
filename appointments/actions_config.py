"""Audit actions of the appointment configuration and the clerks' calendar feeds."""

from portal.audit.registry import declare

declare("appointment.config_saved", ["location_id", "fields"], "A location's appointment settings were saved")
declare(
    "appointment.config_service_saved",
    ["location_id", "service_id", "duration_minutes", "active"],
    "A service offered at a location was added or changed",
)
declare(
    "appointment.config_hours_saved",
    ["location_id", "weekday", "opens", "closes"],
    "An opening interval of a location was added or changed",
)
declare(
    "appointment.config_hours_changed", ["location_id", "weekday", "opens", "closes"], "An opening interval was changed"
)
declare("appointment.config_hours_deleted", ["location_id", "weekday"], "An opening interval was removed")
declare(
    "appointment.config_closure_saved",
    ["location_id", "first_day", "last_day"],
    "A closure (closed days) of a location was added",
)
declare("appointment.config_closure_deleted", ["location_id", "first_day", "last_day"], "A closure was removed")
declare("appointment.feed_created", ["location_id", "show_names"], "A clerk subscribed to a location's calendar feed")
declare("appointment.feed_revoked", ["location_id"], "A calendar feed subscription was revoked")
