"""`edge-app run --mqtt ... --http ...` as a real process, watched by a real paho subscriber on
Debian's mosquitto, and scraped like Prometheus: Home Assistant discovery, availability and its
will, label states, /metrics, a broker that dies and returns, and no broker at all."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers.app_process import FAST_MODEL, AppProcess, log_of, processes, start, status_when_up  # noqa: F401  (fixture)
from tests.helpers.fleet import Broker, Subscriber, broker, promtool_check, subscribers  # noqa: F401  (fixtures)
from tests.helpers.live_view import get
from tests.helpers.ports import free_port
from tests.helpers.shared_data import MODELS
from tests.helpers.waiting import poll, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("model_cache")]  # catalog names resolve offline
DEVICE = "fleettest"
PREFIX = f"edge-app/{DEVICE}"
AVAILABILITY, STATE = f"{PREFIX}/availability", f"{PREFIX}/state"
LABEL_CONFIG = f"homeassistant/sensor/{DEVICE}/label/config"


def run_app(processes: list, mqtt_url: str, *extra: str) -> tuple[AppProcess, str]:
    port = free_port()
    process, _ = start(
        [
            "--source",
            "synthetic",
            "--fps",
            "30",
            "--model",
            FAST_MODEL,
            "--http",
            f"127.0.0.1:{port}",
            "--mqtt",
            mqtt_url,
            "--device-id",
            DEVICE,
            *extra,
        ]
    )
    processes.append(process)
    return process, f"http://127.0.0.1:{port}"


def metrics(base: str) -> dict[str, float]:
    """Every sample of /metrics by name and labels, e.g. 'edge_app_fps{stream="video"}'."""
    code, _, body = get(base, "/metrics")
    assert code == 200
    samples = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def newcomer_sees(
    port: int, subscribers: Callable[..., Subscriber], topic: str, payload: bytes | None = None, timeout: float = 20.0
) -> bool:
    """A client connecting now gets `topic` as a retained message (with `payload`, if given)."""

    def check() -> bool:
        late = subscribers(port, topic)
        found = late.wait_for(topic, payload, timeout=2.0)
        late.close()
        return found is not None and found.retain

    return bool(poll(check, timeout=timeout, interval=0.5))


def test_home_assistant_sees_the_device_its_labels_and_prometheus_its_counters(
    broker: Broker, subscribers, processes: list
) -> None:
    watch = subscribers(broker.port)
    process, base = run_app(processes, broker.url)
    assert watch.wait_for(AVAILABILITY, b"online", timeout=60) is not None, log_of(process)

    assert newcomer_sees(broker.port, subscribers, LABEL_CONFIG)
    config = watch.wait_for(LABEL_CONFIG).json()
    assert config["unique_id"] == f"edge_app_{DEVICE}_label" and config["state_topic"] == STATE
    assert config["availability"][0]["topic"] == AVAILABILITY and config["device"]["identifiers"] == [
        f"edge_app_{DEVICE}"
    ]
    assert newcomer_sees(broker.port, subscribers, AVAILABILITY, b"online")

    assert watch.wait(lambda w: len(w.on(STATE)) >= 3, timeout=30)
    states = [m.json() for m in watch.on(STATE)]
    labels = set(
        (MODELS / "imagenet_labels.txt").read_text().splitlines()
    )  # read here: without ../shared the module still loads
    assert all(s["label"] in labels for s in states if s["label"] is not None) and any(s["label"] for s in states)
    assert all(m.retain is False for m in watch.on(STATE))  # live deliveries; the broker keeps the newest retained
    assert newcomer_sees(broker.port, subscribers, STATE)

    first = metrics(base)
    assert wait_until(
        lambda: metrics(base)["edge_app_frames_classified_total"] > first["edge_app_frames_classified_total"] + 10,
        timeout=30,
    )
    later = metrics(base)
    assert later["edge_app_inference_seconds_count"] > first["edge_app_inference_seconds_count"]
    assert later['edge_app_inference_seconds_bucket{le="+Inf"}'] == later["edge_app_inference_seconds_count"]
    assert later["edge_app_mqtt_messages_sent_total"] >= 5 and later["edge_app_mqtt_connected"] == 1
    assert later["edge_app_source_up"] == 1
    checked = promtool_check(get(base, "/metrics")[2].decode())
    assert checked.returncode == 0 and checked.stdout == checked.stderr == "", checked.stdout + checked.stderr

    seen = watch.count()
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
    assert watch.wait_for(AVAILABILITY, b"offline", after=seen) is not None
    assert newcomer_sees(broker.port, subscribers, AVAILABILITY, b"offline")
    assert "Traceback" not in log_of(process)


def test_a_broker_that_dies_and_returns_gets_everything_again_and_a_killed_app_leaves_its_will(
    broker: Broker, subscribers, processes: list
) -> None:
    watch = subscribers(broker.port)
    process, base = run_app(processes, broker.url)
    assert watch.wait_for(AVAILABILITY, b"online", timeout=60) is not None, log_of(process)

    broker.kill()
    down = metrics(base)["edge_app_frames_classified_total"]
    time.sleep(4)  # the outage the issue asks for: the app must go on meanwhile
    assert process.poll() is None
    assert metrics(base)["edge_app_frames_classified_total"] > down  # the camera never waited for the broker
    assert status_when_up(base)["state"] == "running"
    broker.restart()  # on the same port, with nothing retained (no persistence)

    assert newcomer_sees(broker.port, subscribers, AVAILABILITY, b"online", timeout=20)
    assert newcomer_sees(broker.port, subscribers, LABEL_CONFIG, timeout=20)
    assert newcomer_sees(broker.port, subscribers, STATE, timeout=20)
    assert log_of(process).count("MQTT: lost the connection") == 1
    assert metrics(base)["edge_app_mqtt_connected"] == 1

    process.send_signal(signal.SIGKILL)
    process.wait(10)
    # The broker notices the dead socket at once (or after 1.5 keepalives) and publishes the will.
    assert newcomer_sees(broker.port, subscribers, AVAILABILITY, b"offline", timeout=30)


def test_sighup_closes_and_rebuilds_the_mqtt_output_and_the_metrics(
    broker: Broker, subscribers, processes: list, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "config.toml"
    config.write_text(
        f'[model]\nmodel = "{FAST_MODEL}"\n[source]\nsource = "synthetic"\nfps = 30\n[output]\nhttp = '
        f'"127.0.0.1:{port}"\n'
        f'[mqtt]\nmqtt = "{broker.url}"\ndevice_id = "{DEVICE}"\n'
    )
    watch = subscribers(broker.port)
    process, _ = start(["--config", str(config)])
    processes.append(process)
    base = f"http://127.0.0.1:{port}"
    assert watch.wait_for(AVAILABILITY, b"online", timeout=60) is not None, log_of(process)
    seen = watch.count()
    process.send_signal(signal.SIGHUP)
    # the old output said goodbye (after the old pipeline stopped: on a loaded machine, seconds)
    assert watch.wait_for(AVAILABILITY, b"offline", timeout=60, after=seen) is not None, log_of(process)
    assert wait_until(
        lambda: [m.payload for m in watch.messages[seen:] if m.topic == AVAILABILITY] == [b"offline", b"online"],
        timeout=30,
    )
    assert wait_until(lambda: "reloaded" in log_of(process), timeout=30)
    assert wait_until(lambda: status_when_up(base).get("state") == "running", timeout=30)
    assert metrics(base)["edge_app_mqtt_connected"] == 1  # the new registry reads the new output
    assert process.poll() is None and "Traceback" not in log_of(process)


def test_no_broker_at_start_the_app_runs_and_says_so_once(processes: list) -> None:
    nobody = free_port()
    process, base = run_app(processes, f"mqtt://127.0.0.1:{nobody}")
    assert wait_until(lambda: status_when_up(base).get("frames", {}).get("classified", 0) > 20, timeout=60), log_of(
        process
    )
    assert wait_until(lambda: "MQTT: cannot connect" in log_of(process), timeout=20)
    failures = "edge_app_mqtt_connect_failures_total"
    assert wait_until(lambda: metrics(base)[failures] >= 3, timeout=60), metrics(base)[
        failures
    ]  # retried: still one warning
    assert metrics(base)["edge_app_mqtt_connected"] == 0
    process.send_signal(signal.SIGTERM)
    assert process.wait(15) == 0
    text = log_of(process)
    assert text.count("MQTT: cannot connect") == 1 and "Traceback" not in text


def test_mqtts_to_a_broker_with_a_ca_made_here(tmp_path: Path, subscribers, processes: list) -> None:
    from tests.helpers.fleet import make_ca

    certificates = make_ca(tmp_path / "ca")
    secure = Broker(tmp_path, tls=certificates)
    secure.start()
    try:
        watch = subscribers(secure.port)
        process, _ = run_app(processes, f"mqtts://localhost:{secure.tls_port}", "--mqtt-ca-file", str(certificates.ca))
        assert watch.wait_for(AVAILABILITY, b"online", timeout=60) is not None, log_of(process)
        assert watch.wait(lambda w: len(w.on(STATE)) >= 1, timeout=30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
    finally:
        secure.kill()


def test_a_bad_mqtt_url_is_one_line_and_exit_2(processes: list) -> None:
    process, _ = start(["--source", "synthetic", "--model", FAST_MODEL, "--mqtt", "http://broker"])
    processes.append(process)
    assert process.wait(30) == 2
    text = log_of(process)
    assert "scheme must be mqtt or mqtts" in text and "Traceback" not in text
