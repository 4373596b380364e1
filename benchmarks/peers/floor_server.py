"""The floor for endpoint latency: a bare uvicorn + Starlette app calling the booster directly.

    python benchmarks/peers/floor_server.py <model file> <port>

It parses a CSV body, predicts, and answers CSV — what any hand-written server for this
model would do, with nothing else in the way.
"""

from __future__ import annotations

import io
import sys

import numpy as np
import uvicorn
import xgboost
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


def build(model_file: str) -> Starlette:
    booster = xgboost.Booster(model_file=model_file)

    async def invocations(request: Request) -> Response:
        rows = np.loadtxt(io.BytesIO(await request.body()), delimiter=",", ndmin=2, dtype=np.float32)
        scores = booster.inplace_predict(rows)
        return Response("\n".join(f"{value:.7g}" for value in scores) + "\n", media_type="text/csv")

    return Starlette(routes=[Route("/invocations", invocations, methods=["POST"])])


if __name__ == "__main__":
    uvicorn.run(build(sys.argv[1]), host="127.0.0.1", port=int(sys.argv[2]), log_level="warning")
