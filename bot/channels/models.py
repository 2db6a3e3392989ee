"""What the SMS channel must remember between webhooks.

``sms_opt_out`` records STOP/START per phone number (E.164) so an opted-out
number is never texted; ``sms_inbound`` records each gateway ``MessageSid`` so
a webhook the gateway retries is processed once.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, String

from bot.db import Base


class SmsOptOut(Base):
    __tablename__ = "sms_opt_out"
    phone_e164 = Column(String(20), primary_key=True)
    opted_out = Column(Boolean, nullable=False, default=True)
    changed_at = Column(DateTime(timezone=True), nullable=False)


class SmsInbound(Base):
    __tablename__ = "sms_inbound"
    message_sid = Column(String(64), primary_key=True)
    received_at = Column(DateTime(timezone=True), nullable=False, index=True)
