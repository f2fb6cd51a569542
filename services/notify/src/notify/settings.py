"""Notify settings, from NOTIFY_* environment variables; a channel without settings is switched off."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from servicekit.settings import ServiceSettings


class ChannelSettings(BaseSettings):
    """The providers and the dispatcher's limits: all the embedded mode reads (it has no database URL)."""

    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    smtp_host: str | None = Field(default=None, description="SMTP relay; unset switches e-mail off")
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_start_tls: bool = False
    smtp_connections: int = Field(default=4, ge=1, le=64)
    email_sender: str = "noreply@wucheng.gov.cn"
    kannel_sendsms_url: str | None = Field(
        default=None, description="Kannel smsbox, e.g. http://127.0.0.1:13013/cgi-bin/sendsms; unset: SMS off"
    )
    kannel_username: str = "notify"
    kannel_password: SecretStr | None = None
    sms_sender: str = "10690000"
    callback_base_url: str = Field(
        default="http://127.0.0.1:8104",
        description="This service's own address as Kannel reaches it, for delivery reports (not the gateway)",
    )
    push_webhook_url: str | None = Field(default=None, description="The app's push endpoint; unset: push off")
    push_secret: SecretStr | None = None
    # Sends per second each provider accepts (the SMSC's throughput, the relay's limit).
    sms_rate_per_s: float = 50.0
    email_rate_per_s: float = 200.0
    push_rate_per_s: float = 100.0
    max_attempts: int = Field(default=5, ge=1)
    dispatch_batch: int = Field(default=200, ge=1)


class NotifySettings(ServiceSettings, ChannelSettings):
    model_config = SettingsConfigDict(env_prefix="NOTIFY_", extra="ignore")

    # Consumer group members in one worker: each takes some of the topics' partitions (3 each).
    consumers: int = Field(default=3, ge=1, le=12)
    role: Literal["all", "consumers", "dispatcher"] = Field(
        default="all",
        description="What this worker process runs: consumers and relay, the dispatcher, or both. On more "
        "than one core, one process of each (or more dispatchers: they share the work) sends faster",
    )
