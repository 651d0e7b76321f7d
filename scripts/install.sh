#!/bin/sh
# Installs jim as a systemd service:
#   sh scripts/install.sh [--dry-run] [BINARY]      (BINARY defaults to ./dist/jim)
# copies BINARY to /usr/local/bin/jim, scripts/jim.service to /etc/systemd/system/jim.service,
# an example /etc/jim/jim.env if there is none, then runs `systemctl daemon-reload`.
# DESTDIR=/some/root installs under that root instead (and skips systemctl).
set -eu

DRY_RUN=0
BINARY=""
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=1 ;;
    -h | --help)
      sed -n '2,6p' "$0"
      exit 0
      ;;
    -*)
      echo "install.sh: unknown option $arg" >&2
      exit 2
      ;;
    *) BINARY="$arg" ;;
  esac
done

HERE=$(cd "$(dirname "$0")" && pwd)
BINARY=${BINARY:-./dist/jim}
DESTDIR=${DESTDIR:-}
UNIT="$HERE/jim.service"

run() {
  if [ "$DRY_RUN" = 1 ]; then
    echo "$*"
  else
    "$@"
  fi
}

if [ "$DRY_RUN" = 0 ] && [ ! -f "$BINARY" ]; then
  echo "install.sh: no binary at $BINARY (build it with: deno task compile)" >&2
  exit 1
fi

run mkdir -p "$DESTDIR/usr/local/bin" "$DESTDIR/etc/systemd/system" "$DESTDIR/etc/jim"
run install -m 0755 "$BINARY" "$DESTDIR/usr/local/bin/jim"
run install -m 0644 "$UNIT" "$DESTDIR/etc/systemd/system/jim.service"
ENV_FILE="$DESTDIR/etc/jim/jim.env"
if [ -e "$ENV_FILE" ]; then
  echo "keeping existing $ENV_FILE"
elif [ "$DRY_RUN" = 1 ]; then
  echo "write example $ENV_FILE"
else
  cat >"$ENV_FILE" <<'ENV'
# jim options as JIM_* variables; `jim --help` lists them all.
#JIM_PORT=8888
#JIM_API_TOKEN=change-me
#JIM_LOG_LEVEL=info
ENV
  chmod 0640 "$ENV_FILE"
fi
if [ -n "$DESTDIR" ]; then
  echo "DESTDIR set: skipping systemctl daemon-reload"
else
  run systemctl daemon-reload
  echo "installed; start with: systemctl enable --now jim"
fi
