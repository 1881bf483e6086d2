"""`--mqtt URL`: results to an MQTT broker, with Home Assistant discovery.

The pipeline only ever enqueues: result() puts a state into a bounded outbox when the top-1
label changes (dropping the oldest when full), frame() keeps the newest snapshot image. One
worker thread publishes while the broker is connected; paho's own network thread connects in
the background (connect_async + loop_start) and reconnects with capped backoff. So a dead,
slow or missing broker changes nothing for the camera, the live view or the other outputs;
it costs one warning per outage and one info line when the broker is back.

On every (re)connect, and when Home Assistant announces itself (`homeassistant/status` =
`online`), availability `online`, the discovery configs and the current state are published
again, all retained. Each region (read from the run's RegionBoard) has its own retained state
topic, published on every verified change, in order (the oldest dropped after OUTBOX_SIZE
while the broker is away), and again with each announcement, and its own enum sensor; a deleted region's sensor is
removed (an empty retained config). The broker publishes the last will, `offline`, if the process dies; a
clean stop publishes `offline` itself.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from edge_app import __version__
from edge_app.errors import EdgeAppError
from edge_app.fleet import discovery
from edge_app.fleet.outbox import Outbox
from edge_app.fleet.state import ChangeGate, region_payload, state_payload
from edge_app.fleet.topics import HA_STATUS_ONLINE, OFFLINE, ONLINE, Topics, default_device_id
from edge_app.fleet.url import MqttUrl
from edge_app.frames import Frame, Result
from edge_app.sinks.base import Sink

if TYPE_CHECKING:
    from edge_app.pipeline.state import PipelineState
    from edge_app.regions.board import RegionBoard, RegionView
    from edge_app.settings import Settings
    from edge_app.sinks.registry import SinkContext

log = logging.getLogger("edge_app.mqtt")
INSTALL_HINT = "install the MQTT extra: pip install 'edge-app[mqtt]' (from a checkout: pip install '.[mqtt]')"
OUTBOX_SIZE = 100  # states kept while the broker is away; older ones are dropped first
IN_FLIGHT = 20  # states handed to paho and not yet acknowledged: more wait in the outbox
RECONNECT_MIN_S, RECONNECT_MAX_S = 1, 10
CONNECT_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class MqttOptions:
    """Everything the MQTT output needs, checked once (files read, URL parsed, names resolved)."""

    url: MqttUrl
    topics: Topics
    username: str | None = None
    password: str | None = None
    ca_file: str | None = None
    discovery: bool = True
    keepalive: int = 60
    qos: int = 1
    interval: float = 30.0
    snapshot: bool = False


def options_from(settings: Settings) -> MqttOptions:
    """The [mqtt] settings combined: user and password from the URL or their own keys (not both)."""
    url = settings.mqtt
    assert url is not None
    if url.username and settings.mqtt_username and url.username != settings.mqtt_username:
        raise EdgeAppError("two MQTT user names: one in the URL, one in mqtt_username", "keep one of them")
    given = [
        name
        for name, value in (
            ("the URL", url.password),
            ("mqtt_password", settings.mqtt_password),
            ("mqtt_password_file", settings.mqtt_password_file),
        )
        if value
    ]
    if len(given) > 1:
        raise EdgeAppError(f"the MQTT password is given twice ({' and '.join(given)})", "keep one of them")
    password = url.password or settings.mqtt_password or _read_password(settings.mqtt_password_file)
    if settings.mqtt_ca_file and not Path(settings.mqtt_ca_file).expanduser().is_file():
        raise EdgeAppError(
            f"MQTT CA file {settings.mqtt_ca_file} not found",
            "give the PEM file of the CA that signed the broker's certificate",
        )
    if settings.mqtt_ca_file and not url.tls:
        log.warning("mqtt_ca_file is set but %s is not TLS; use mqtts:// to encrypt", url)
    device_id = settings.device_id or default_device_id()
    return MqttOptions(
        url=url,
        topics=Topics.of(device_id, settings.mqtt_topic_prefix, settings.mqtt_discovery_prefix),
        username=url.username or settings.mqtt_username,
        password=password,
        ca_file=str(Path(settings.mqtt_ca_file).expanduser()) if settings.mqtt_ca_file else None,
        discovery=settings.mqtt_discovery,
        keepalive=settings.mqtt_keepalive,
        qos=settings.mqtt_qos,
        interval=settings.mqtt_interval,
        snapshot=settings.mqtt_snapshot,
    )


def _read_password(path: str | None) -> str | None:
    if not path:
        return None
    try:
        return Path(path).expanduser().read_text(encoding="utf-8").strip("\r\n") or None
    except OSError as exc:
        raise EdgeAppError(
            f"cannot read the MQTT password file {path} ({exc.strerror})",
            "check the path and that the service user may read it",
        ) from None


def paho() -> Any:
    """paho.mqtt.client, imported when an MQTT output is built (so --help stays instant)."""
    try:
        import paho.mqtt.client as client
    except ImportError:
        raise EdgeAppError("--mqtt needs paho-mqtt, which is not installed", INSTALL_HINT) from None
    if not hasattr(client, "CallbackAPIVersion"):
        raise EdgeAppError("--mqtt needs paho-mqtt 2, but an older one is installed", "pip install -U 'paho-mqtt>=2'")
    return client


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Verifies the broker's certificate and name: against `ca_file`, or the system's CAs."""
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as exc:
        raise EdgeAppError(
            f"cannot use the MQTT CA file {ca_file}: {exc}", "give a PEM file with the CA certificate"
        ) from None


class MqttSink(Sink):
    def __init__(self, options: MqttOptions, state: PipelineState, regions: RegionBoard | None = None) -> None:
        self.options = options
        self.topics = options.topics
        self.wants_frames = options.snapshot
        self._state = state
        model = state.model
        self._device = discovery.Device(
            self.topics.device_id, str(model.get("name", "")), str(model.get("delegate", "")), __version__
        )
        self.outbox: Outbox[bytes] = Outbox(OUTBOX_SIZE)
        self._gate = ChangeGate()
        self._latest: Result | None = None  # for the heartbeat and re-announcing
        self._snapshot_after: int | None = None  # a label changed at this frame: snapshot the next frame showing it
        self._snapshot: np.ndarray | None = None
        self._lock = threading.Lock()  # counters and connection bookkeeping
        self.sent = 0
        self._unacked = 0
        self.failed = 0
        self.connect_failures = 0  # attempts the broker did not answer, since start
        self.connected = False
        self._announce = False
        self._down_since: float | None = None  # an outage already reported (one warning each)
        self._last_state_at = time.monotonic()
        self._closing = False
        self._worker: threading.Thread | None = None
        self._regions = regions
        self._region_states: deque[tuple[str, bytes]] = deque(maxlen=OUTBOX_SIZE)  # verified changes, in order
        self._region_configs: set[str] = set()  # discovery topics of the regions announced
        if regions is not None:
            regions.on_change(self._region_changed)
        self._client = self._make_client(paho())

    # -- the paho client and its callbacks (they run on paho's network thread) -------------

    def _make_client(self, mqtt: Any) -> Any:
        o = self.options
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"edge-app-{self.topics.device_id}", clean_session=True
        )
        if o.username is not None:
            client.username_pw_set(o.username, o.password)
        if o.url.tls:
            client.tls_set_context(tls_context(o.ca_file))
        client.will_set(self.topics.availability, OFFLINE, qos=o.qos, retain=True)
        client.reconnect_delay_set(RECONNECT_MIN_S, RECONNECT_MAX_S)
        client.max_queued_messages_set(IN_FLIGHT + 20)  # paho's own queue stays bounded too (states and announcements)
        client.connect_timeout = CONNECT_TIMEOUT_S
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        return client

    def _on_connect(self, client: Any, _userdata: Any, _flags: Any, reason: Any, _properties: Any) -> None:
        if reason.is_failure:
            hint = (
                "; check the user name and password"
                if "auth" in str(reason).lower() or "password" in str(reason).lower()
                else ""
            )
            self._down(f"the broker refused the connection: {reason}{hint}")
            return
        with self._lock:
            down_since, self._down_since = self._down_since, None
            self.connected = True
            self._announce = True
            self._unacked = 0  # what paho re-sends now is acknowledged against a fresh window
        if down_since is not None:
            log.info("MQTT: connected to %s again after %.0f s", self.options.url, time.monotonic() - down_since)
        else:
            log.info("MQTT: connected to %s, publishing under %s/", self.options.url, self.topics.prefix)
        if self.options.discovery:
            client.subscribe(self.topics.ha_status, qos=self.options.qos)
        self.outbox.wake()

    def _on_connect_fail(self, _client: Any, _userdata: Any) -> None:
        with self._lock:
            self.connect_failures += 1
        self._down(f"cannot connect to {self.options.url}")

    def _on_disconnect(self, _client: Any, _userdata: Any, _flags: Any, reason: Any, _properties: Any) -> None:
        with self._lock:
            self.connected = False
        if not self._closing:
            self._down(f"lost the connection to {self.options.url} ({reason})")

    def _down(self, why: str) -> None:
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = time.monotonic()
        if first:
            log.warning(
                "MQTT: %s; retrying every %d s at most (video and other outputs are unaffected)", why, RECONNECT_MAX_S
            )

    def _on_message(self, _client: Any, _userdata: Any, message: Any) -> None:
        if (
            message.topic == self.topics.ha_status
            and message.payload.strip().decode("utf-8", "replace") == HA_STATUS_ONLINE
        ):
            log.info("MQTT: Home Assistant came online; announcing again")
            with self._lock:
                self._announce = True
            self.outbox.wake()

    def _on_publish(self, _client: Any, _userdata: Any, _mid: int, _reason: Any, _properties: Any) -> None:
        with self._lock:
            self.sent += 1
            self._unacked = max(0, self._unacked - 1)
            wake = self._unacked == IN_FLIGHT - 1
        if wake:
            self.outbox.wake()

    # -- the pipeline's side: enqueue only -------------------------------------------------

    def start(self, stop: threading.Event, lossless: bool = False) -> None:
        o = self.options
        self._client.connect_async(o.url.host, o.url.port, keepalive=o.keepalive)
        self._client.loop_start()
        self._worker = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)
        self._worker.start()

    def result(self, result: Result) -> None:
        self._latest = result
        if self._gate.changed(result):
            self.outbox.put(self._payload(result))
            if self.options.snapshot:
                self._snapshot_after = result.seq

    def frame(self, image: np.ndarray, frame: Frame, result: Result | None) -> None:
        wanted = self._snapshot_after
        if wanted is not None and result is not None and result.seq >= wanted:
            self._snapshot_after = None
            self._snapshot = image  # a reference: encoded on the worker thread, only the newest is kept
            self.outbox.wake()

    def _region_changed(self, view: RegionView, what: str) -> None:
        """From the board's thread: a verified change is queued; new regions or classes re-announce."""
        if what == "state":
            self._queue_region(view)
        elif what in ("regions", "classes") and self.options.discovery:
            with self._lock:
                self._announce = True
        else:
            return
        self.outbox.wake()

    def _queue_region(self, view: RegionView) -> None:
        if view.state is not None:
            with self._lock:
                self._region_states.append((self.topics.region(view.camera, view.name), region_payload(view)))

    def _payload(self, result: Result) -> bytes:
        return state_payload(result, self._state.video_rate.rate(), self._state.inference_rate.rate())

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "connected": self.connected,
                "sent": self.sent,
                "dropped": self.outbox.dropped + self.failed,
                "connect_failures": self.connect_failures,
            }

    # -- the worker: publishes while connected ---------------------------------------------

    def _run(self) -> None:
        while not self._closing:
            try:
                self._step()
            except Exception:  # a bug here must not end the run: the camera matters more
                log.exception("MQTT publisher failed; continuing")

    def _step(self) -> None:
        with self._lock:
            announce = self._announce and self.connected
            if announce:
                self._announce = False
        if announce:
            self._announce_all()
        if self._region_states and self.connected:
            with self._lock:
                waiting = list(self._region_states)
                self._region_states.clear()
            for topic, region_state in waiting:
                self._publish(topic, region_state)
        if self._snapshot is not None and self.connected:
            self._send_snapshot()
        wait = self._heartbeat_in() if self.connected else self.options.interval
        payload = self.outbox.take(self._can_send, max(0.0, wait))
        if payload is not None:
            self._send_state(payload)
        elif self.connected and self._heartbeat_in() <= 0:
            latest = self._latest
            if latest is not None:
                self._send_state(self._payload(latest))
            else:
                self._last_state_at = time.monotonic()  # nothing classified yet: nothing to repeat

    def _can_send(self) -> bool:
        return self.connected and self._unacked < IN_FLIGHT

    def _heartbeat_in(self) -> float:
        return self._last_state_at + self.options.interval - time.monotonic()

    def _announce_all(self) -> None:
        """Availability, discovery, then the current state (queued behind older ones, in order)."""
        self._publish(self.topics.availability, ONLINE.encode())
        if self.options.discovery:
            for topic, config in discovery.configs(self.topics, self._device, self.options.snapshot):
                self._publish(topic, json.dumps(config, separators=(",", ":")).encode())
            self._announce_regions()
        for view in self._regions.views() if self._regions else ():
            self._queue_region(view)  # retained again, e.g. the state restored after a restart
        latest = self._latest
        if latest is not None:
            self.outbox.put(self._payload(latest))

    def _announce_regions(self) -> None:
        """A sensor per region with its classes; the sensors of regions gone are removed."""
        views = self._regions.views() if self._regions else []
        cameras = {view.camera for view in views}
        announced = set()
        for view in views:
            name = view.name if len(cameras) < 2 else f"{view.camera} {view.name}"
            entity = discovery.region_entity(self.topics, view.camera, view.name, view.classes, name)
            topic = self.topics.discovery(entity.component, entity.object_id)
            config = discovery.config(entity, self.topics, self._device)
            self._publish(topic, json.dumps(config, separators=(",", ":")).encode())
            announced.add(topic)
        for topic in self._region_configs - announced:
            self._publish(topic, b"")
        self._region_configs = announced

    def _send_state(self, payload: bytes) -> None:
        self._publish(self.topics.state, payload)
        self._last_state_at = time.monotonic()

    def _send_snapshot(self) -> None:
        import cv2

        image, self._snapshot = self._snapshot, None
        if image is None:
            return
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 85])
        if ok:
            self._publish(self.topics.snapshot, data.tobytes())

    def _publish(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self._unacked += 1
        info = self._client.publish(topic, payload, qos=self.options.qos, retain=True)
        if info.rc != 0:  # not connected any more, or paho's queue is full: this message is lost
            with self._lock:
                self.failed += 1
                self._unacked = max(0, self._unacked - 1)

    # -- stopping --------------------------------------------------------------------------

    def close(self, timeout: float = 2.0) -> None:
        """Publish `offline` (retained) and disconnect, all within about `timeout` seconds."""
        if self._closing:
            return
        deadline = time.monotonic() + timeout
        self._closing = True
        self.outbox.wake()
        if self._worker is not None:
            self._worker.join(max(0.0, deadline - time.monotonic()) / 2)
        if self.connected:
            try:
                info = self._client.publish(
                    self.topics.availability, OFFLINE.encode(), qos=self.options.qos, retain=True
                )
                info.wait_for_publish(
                    max(0.5, deadline - time.monotonic())
                )  # worth a moment: HA would show online forever
            except (RuntimeError, ValueError) as exc:
                log.debug("MQTT: could not publish offline: %s", exc)
        self._client.disconnect()
        # loop_stop() joins paho's thread, which may be inside a connect attempt: bound it.
        stopper = threading.Thread(target=self._client.loop_stop, name="mqtt-stop", daemon=True)
        stopper.start()
        stopper.join(max(0.0, deadline - time.monotonic()))


def from_settings(settings: Settings, context: SinkContext) -> MqttSink:
    return MqttSink(options_from(settings), context.state, context.regions)
