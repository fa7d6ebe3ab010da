"""Delivery channels besides the panel: email (SMTP), LMS messages (Moodle, Canvas) and
webhooks (JSON, HMAC-signed). Each takes a message the engine has rendered and sends it."""
