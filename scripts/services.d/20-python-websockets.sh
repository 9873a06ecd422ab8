# Peer for the WebSocket receiver tests (ffc-protocols, issue 5): the Python `websockets`
# package as an independent WebSocket client. Nothing to start: the tests run it through
# $FFC_PYTHON. Exports FFC_PY_WEBSOCKETS=1 once it imports.
if ! "$FFC_PYTHON" -c 'import websockets' >/dev/null 2>&1; then
    "$FFC_VENV/bin/pip" install -q 'websockets==15.0.1'
fi
if "$FFC_PYTHON" -c 'import websockets.sync.client' >/dev/null 2>&1; then
    export FFC_PY_WEBSOCKETS=1
else
    echo "services.d/20-python-websockets: websockets did not install" >&2
fi
