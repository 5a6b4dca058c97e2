#!/usr/bin/env bash
# Runs the Paho interoperability client tests for MQTT 3.1.1 (eclipse/paho.mqtt.testing,
# interoperability/client_test.py, unchanged) against our broker in conformance test mode.
#   tests/hostile/run-paho.sh /path/to/paho.mqtt.testing [port]
# Needs python3 only (the Paho test client is pure Python). The checkout is not part of this
# repository; the same cases run in CI as tests/hostile/paho-conformance.test.ts (MQTT.js).
set -euo pipefail
paho=${1:?usage: run-paho.sh /path/to/paho.mqtt.testing [port]}
port=${2:-18830}
cd "$(dirname "$0")/../.."
node --import tsx tests/hostile/conformance-broker.ts --port "$port" --log-level warn &
broker=$!
trap 'kill "$broker" 2>/dev/null || true; wait "$broker" 2>/dev/null || true' EXIT
for _ in $(seq 1 120); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.5; done
# client_test.py sets its host, port and topics only under __main__, and unittest.main() would read
# our arguments: set them on the module as its __main__ block does, then run its test case.
cd "$paho/interoperability"
PORT=$port python3 - <<'PY'
import os, sys, unittest
sys.argv = ["client_test.py"]
import client_test as ct
ct.host, ct.port = "127.0.0.1", int(os.environ["PORT"])
ct.topics = ("TopicA", "TopicA/B", "Topic/C", "TopicA/C", "/TopicA")
ct.wildtopics = ("TopicA/+", "+/C", "#", "/#", "/+", "+/+", "TopicA/#")
ct.nosubscribe_topics = ("test/nosubscribe",)
result = unittest.main(module=ct, argv=["client_test.py", "-v"], exit=False).result
sys.exit(0 if result.wasSuccessful() else 1)
PY
