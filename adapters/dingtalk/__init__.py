"""DingTalk (钉钉): stream-mode robot and card callbacks, HTTP outgoing robot, OpenAPI outbound, org sync."""
