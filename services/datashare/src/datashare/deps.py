"""Per-app objects the routes need (async: FastAPI would run plain functions in a thread pool)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncEngine

from datashare.evidence.providers import ProviderClient
from datashare.signing import Signer, SignerHolder


@dataclass(frozen=True)
class Broker:
    """What an evidence request needs besides its body and caller, resolved in one dependency."""

    engine: AsyncEngine
    providers: ProviderClient
    signer: Signer


async def get_signer(request: Request) -> Signer:
    holder: SignerHolder = request.app.state.signer
    return await holder.get()


async def get_broker(request: Request) -> Broker:
    state = request.app.state
    return Broker(state.engine, state.providers, await get_signer(request))


BrokerDep = Annotated[Broker, Depends(get_broker)]
SignerDep = Annotated[Signer, Depends(get_signer)]
