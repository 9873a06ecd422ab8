# bacpypes3 (PyPI), an independent BACnet/IP implementation, for ffc-protocols' BACnet
# interop tests (ffc-protocols/tests/bacnet_bacpypes3.rs) and benchmark. Sourced by
# scripts/services.sh. Installs a pinned bacpypes3 into the shared venv, starts the
# bacpypes3 FFC device (ffc-protocols/tests/peers/bacpypes3_ffc_device.py) on 127.0.0.1,
# waits until it prints "ready", and exports:
#   FFC_BACPYPES3_PYTHON           the venv's python, with bacpypes3
#   FFC_BACPYPES3_DEVICE           host:port of the bacpypes3 device
#   FFC_BACPYPES3_DEVICE_INSTANCE  its device instance

FFC_BACPYPES3_VERSION="0.0.110"
if ! "$FFC_PYTHON" -c "import bacpypes3, sys; sys.exit(bacpypes3.__version__ != '$FFC_BACPYPES3_VERSION')" 2>/dev/null; then
    "$FFC_VENV/bin/pip" install -q "bacpypes3==$FFC_BACPYPES3_VERSION"
fi
export FFC_BACPYPES3_PYTHON="$FFC_PYTHON"

ffc_bacpypes3_start() {
    local port instance log pid
    port="$(ffc_free_port)"
    instance=456789
    log="$FFC_RUN_DIR/bacpypes3-device.log"
    if [ -f "$FFC_RUN_DIR/bacpypes3-device.pid" ]; then
        kill "$(cat "$FFC_RUN_DIR/bacpypes3-device.pid")" 2>/dev/null || true
    fi
    "$FFC_PYTHON" "$FFC_ROOT/ffc-protocols/tests/peers/bacpypes3_ffc_device.py" \
        --name FFC --instance "$instance" --address "127.0.0.1/32:$port" >"$log" 2>&1 &
    pid=$!
    echo "$pid" >"$FFC_RUN_DIR/bacpypes3-device.pid"
    for _ in $(seq 1 100); do
        if grep -q '^ready' "$log" 2>/dev/null; then
            export FFC_BACPYPES3_DEVICE="127.0.0.1:$port"
            export FFC_BACPYPES3_DEVICE_INSTANCE="$instance"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "bacpypes3 device did not start; see $log" >&2
    return 1
}
ffc_bacpypes3_start
