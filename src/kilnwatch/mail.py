"""Sending e-mail over SMTP (``smtplib``), configured by ``Settings.smtp_*``: STARTTLS and
login when configured. Used by the scheduled reports and the supervision notices; any refusal or
connection error is raised as :class:`MailError` for the caller to record and retry."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from kilnwatch.config import Settings
from kilnwatch.errors import KilnwatchError


class MailError(KilnwatchError):
    code = "mail.delivery_failed"


def new_message(settings: Settings, recipient: str, subject: str, body: str) -> EmailMessage:
    """A plain-text message from ``smtp_from`` to ``recipient``."""
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain="kilnwatch")
    msg.set_content(body)
    return msg


def deliver(settings: Settings, msg: EmailMessage) -> None:
    """Send ``msg`` through the configured SMTP server; refusals raise :class:`MailError`."""
    try:
        with smtplib.SMTP(
            settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s
        ) as smtp:
            if settings.smtp_starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.smtp_user:
                smtp.login(settings.smtp_user, settings.smtp_password)
            smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise MailError(f"{type(exc).__name__}: {exc}") from exc


__all__ = ["MailError", "deliver", "new_message"]
