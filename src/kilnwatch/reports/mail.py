"""E-mail of archived reports over SMTP (``smtplib``), configured by ``Settings.smtp_*``.

One message per recipient, the report file attached under its own name (RFC 2231 for Chinese
names); STARTTLS and login when configured. Any refusal or connection error is raised as
:class:`DeliveryError` for the scheduler to record and retry.
"""

from __future__ import annotations

from email.message import EmailMessage

from kilnwatch.config import Settings
from kilnwatch.errors import KilnwatchError
from kilnwatch.mail import MailError, deliver, new_message


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
    msg = new_message(settings, recipient, subject, body)
    maintype, _, subtype = media_type.split(";")[0].partition("/")
    msg.add_attachment(attachment, maintype=maintype, subtype=subtype, filename=filename)
    return msg


def send_message(settings: Settings, msg: EmailMessage) -> None:
    """Send ``msg`` through the configured SMTP server; refusals raise :class:`DeliveryError`."""
    try:
        deliver(settings, msg)
    except MailError as exc:
        raise DeliveryError(exc.message) from exc


__all__ = ["DeliveryError", "report_message", "send_message"]
