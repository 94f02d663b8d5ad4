"""A sample function app exercising every binding the local host supports.

Functions record what they receive in `EVENTS` so tests can observe them; queue names
and the timer schedule come from app settings (%NAME%), so each test uses its own.
"""

from __future__ import annotations

import json
import threading
import time

import azure.functions as func

app = func.FunctionApp(http_auth_level=func.AuthLevel.ANONYMOUS)

EVENTS: list[dict] = []
_LOCK = threading.Lock()


def record(kind: str, **data) -> None:
    with _LOCK:
        EVENTS.append({"kind": kind, "at": time.monotonic(), **data})


def events(kind: str) -> list[dict]:
    with _LOCK:
        return [e for e in EVENTS if e["kind"] == kind]


@app.queue_trigger(arg_name="msg", queue_name="%RECORD_QUEUE%", connection="AzureWebJobsStorage")
def record_message(msg: func.QueueMessage) -> None:
    started = time.monotonic()
    body = msg.get_body().decode()
    record("started", id=msg.id, dequeue_count=msg.dequeue_count)
    if body.startswith("sleep:"):  # "sleep:<seconds>": a slow invocation
        time.sleep(float(body.split(":", 1)[1]))
    record(
        "message",
        started=started,
        id=msg.id,
        body=body,
        dequeue_count=msg.dequeue_count,
        insertion_time=msg.insertion_time,
        expiration_time=msg.expiration_time,
        pop_receipt=msg.pop_receipt,
        type=type(msg).__module__ + "." + type(msg).__name__,
    )


@app.queue_trigger(arg_name="msg", queue_name="%FAIL_QUEUE%", connection="")  # "" = AzureWebJobsStorage
def always_fails(msg: func.QueueMessage) -> None:
    record("failure", id=msg.id, body=msg.get_body().decode(), dequeue_count=msg.dequeue_count)
    raise ValueError(f"cannot process {msg.get_body().decode()!r}")


@app.queue_trigger(arg_name="text", queue_name="%FORWARD_IN%", connection="AzureWebJobsStorage")
@app.queue_output(arg_name="out", queue_name="%FORWARD_OUT%", connection="AzureWebJobsStorage")
def forward(text: str, out: func.Out[str]) -> None:
    out.set(text.upper())


@app.route(route="items/{id:int}/{label?}", methods=["GET"])
def get_item(req: func.HttpRequest) -> func.HttpResponse:
    payload = {
        "id": req.route_params.get("id"),
        "label": req.route_params.get("label"),
        "q": req.params.get("q"),
        "header": req.headers.get("x-test"),
        "method": req.method,
        "url": req.url,
        "type": type(req).__module__ + "." + type(req).__name__,
    }
    return func.HttpResponse(json.dumps(payload), mimetype="application/json", headers={"x-item": "1"})


@app.route(route="items", methods=["POST"])
async def create_item(req: func.HttpRequest) -> func.HttpResponse:
    body = req.get_json()
    return func.HttpResponse(json.dumps({"created": body}), status_code=201, mimetype="application/json")


@app.route(route="secure", auth_level=func.AuthLevel.FUNCTION)
def secure(req: func.HttpRequest) -> str:
    return "secret"


@app.route(route="crash")
def crash(req: func.HttpRequest) -> func.HttpResponse:
    raise RuntimeError("crash on purpose")


@app.timer_trigger(arg_name="timer", schedule="%TICK_SCHEDULE%", run_on_startup=True)
def tick(timer: func.TimerRequest) -> None:
    record("tick", past_due=timer.past_due, type=type(timer).__module__ + "." + type(timer).__name__)


@app.route(route="broadcast", methods=["POST"])
@app.generic_output_binding(
    arg_name="signalr", type="signalR", hub_name="radar", connection_string_setting="AzureSignalRConnectionString"
)
def broadcast(req: func.HttpRequest, signalr: func.Out[str]) -> func.HttpResponse:
    signalr.set(
        json.dumps(
            [
                {"target": "anomaly", "arguments": [req.get_json()]},
                {"target": "notice", "arguments": ["for you"], "userId": "user-7"},
            ]
        )
    )
    return func.HttpResponse(status_code=202)


@app.route(route="negotiate", methods=["POST"])
@app.generic_input_binding(
    arg_name="info", type="signalRConnectionInfo", hub_name="radar", user_id="{headers.x-ms-client-principal-id}"
)
def negotiate(req: func.HttpRequest, info: str) -> func.HttpResponse:
    return func.HttpResponse(info, mimetype="application/json")
