"""The storage kinds served by the appliance API test servers, each ``kind -> factory(root) -> Backend``.

Each appliance module registers its kinds in its own ``BACKENDS``; a factory
starts (once per session) the HTTPS test server and returns a ``Backend``
whose database volumes are created by the driver's own ``createvolume``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from . import backend_huawei, backend_netapp, backend_softnas, backend_zfssa
from .backend_base import Backend

API_BACKENDS: dict[str, Callable[[Path], Backend]] = {**backend_zfssa.BACKENDS, **backend_netapp.BACKENDS,
                                                      **backend_softnas.BACKENDS, **backend_huawei.BACKENDS}
