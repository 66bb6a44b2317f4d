"""E-mail of archived reports over SMTP (``smtplib``), configured by ``Settings.smtp_*``.

One message per recipient, the report file attached under its own name (RFC 2231 for Chinese
names); STARTTLS and login when configured. Any refusal or connection error is raised as
:class:`DeliveryError` for the scheduler to record and retry.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from kilnwatch.config import Settings
from kilnwatch.errors import KilnwatchError


class DeliveryError(KilnwatchError):
    code = "reports.delivery_failed"


def report_message(
    settings: Settings,
    recipient: str,
    subject: str,
    body: str,
    attachment: bytes,
    filename: str,
    media_type: str,
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.smtp_from
    msg["To"] = recipient
    msg["Subject"] = subject
    msg["Date"] = formatdate(localtime=False, usegmt=True)
    msg["Message-ID"] = make_msgid(domain="kilnwatch")
    msg.set_content(body)
    maintype, _, subtype = media_type.split(";")[0].partition("/")
    msg.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def send_message(settings: Settings, msg: EmailMessage) -> None:
    """Send ``msg`` through the configured SMTP server; refusals raise :class:`DeliveryError`."""
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
        raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc


__all__ = ["DeliveryError", "report_message", "send_message"]
