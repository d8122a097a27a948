#!/bin/sh
# Lay veilcam out on a Debian-based board image, from a built wheel and this checkout's
# system files. Idempotent: a second run changes nothing and says so. Run as root.
#
#   board/install.sh [--root DIR] [--board generic|jetson|coral] [--check] [--no-venv] [WHEEL]
#
#   --root DIR  an image mounted at DIR instead of this machine (nothing is started; users,
#               groups and directories are made inside it by systemd-sysusers/-tmpfiles)
#   --board     the board profile: its groups are added to the service user (default generic)
#   --check     only say what would change; exit 1 if anything would
#   --no-venv   leave /opt/veilcam alone (the layout only; the wheel is installed elsewhere)
#   WHEEL       the built wheel (`make build`: dist/veilcam-*.whl), installed into
#               /opt/veilcam (a virtual environment) with its pinned dependencies
#
# What it lays out (owner root:root unless said):
#   /usr/lib/systemd/system/veilcam.service, veilcam-console@.service   0644
#   /usr/lib/sysusers.d/veilcam.conf (+ veilcam-board.conf)             0644
#   /usr/lib/tmpfiles.d/veilcam.conf                                    0644
#   /usr/lib/udev/rules.d/99-veilcam.rules                              0644
#   /usr/lib/systemd/journald.conf.d/veilcam.conf                       0644
#   /usr/share/doc/veilcam/{README.md,field.md}                         0644
#   /etc/veilcam/veilcam.toml (only if absent)                          0640 root:veilcam
#   /usr/bin/veilcam -> /opt/veilcam/bin/veilcam
#   /var/lib/veilcam (0750 veilcam:veilcam), /var/lib/veilcam/models, /etc/veilcam (0750
#   root:veilcam): by systemd-tmpfiles; the user veilcam in video, dialout and the board's
#   groups: by systemd-sysusers.
set -eu

SRC=$(cd "$(dirname "$0")/.." && pwd)
ROOT=/
BOARD=generic
CHECK=0
VENV=1
WHEEL=

while [ $# -gt 0 ]; do
    case "$1" in
    --root) ROOT=${2:?--root needs a directory}; shift 2 ;;
    --board) BOARD=${2:?--board needs a profile name}; shift 2 ;;
    --check) CHECK=1; shift ;;
    --no-venv) VENV=0; shift ;;
    -h | --help) sed -n '2,28p' "$0"; exit 0 ;;
    -*) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    *) WHEEL=$1; shift ;;
    esac
done

PROFILE="$SRC/board/profiles/$BOARD.toml"
[ -f "$PROFILE" ] || { echo "install.sh: no board profile $BOARD ($PROFILE)" >&2; exit 2; }
[ "$(id -u)" = 0 ] || [ "$CHECK" = 1 ] || { echo "install.sh: run as root" >&2; exit 2; }
if [ "$VENV" = 1 ] && [ -z "$WHEEL" ]; then
    echo "install.sh: give the built wheel (make build), or --no-venv" >&2
    exit 2
fi
ROOT=$(cd "$ROOT" && pwd)
R=${ROOT%/}
CHANGED=0

say() { printf '%s\n' "$*"; }

# put SRC DEST MODE [GROUP]: the file, if missing or different in content, owner or mode.
put() {
    src=$1 dest=$R$2 mode=$3 group=${4:-root}
    if [ -f "$dest" ] && cmp -s "$src" "$dest" \
        && [ "$(stat -c %a "$dest")" = "${mode#0}" ] && owned "$dest" "$group"; then
        return 0
    fi
    CHANGED=1
    if [ "$CHECK" = 1 ]; then say "would install $2 ($mode root:$group)"; return 0; fi
    install -D -m "$mode" "$src" "$dest"
    chown "0:$(gid "$group")" "$dest"
    say "installed $2"
}

# The group's id inside the target root (it may not be this machine's).
gid() {
    if [ "$1" = root ]; then echo 0; return; fi
    awk -F: -v g="$1" '$1 == g { print $3 }' "$R/etc/group"
}

owned() {
    [ "$(stat -c %u "$1")" = 0 ] && [ "$(stat -c %g "$1")" = "$(gid "$2")" ]
}

# The board profile's groups, for sysusers (video and dialout are in veilcam.conf).
board_sysusers() {
    groups=$(sed -n 's/^groups *= *\[\(.*\)\]/\1/p' "$PROFILE" | tr -d '" ' | tr ',' ' ')
    say "# /usr/lib/sysusers.d/veilcam-board.conf: the $BOARD profile's device groups"
    for g in $groups; do
        case "$g" in video | dialout) ;; *) say "m veilcam $g" ;; esac
    done
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
board_sysusers > "$TMP/board.conf"

put "$SRC/systemd/veilcam.service" /usr/lib/systemd/system/veilcam.service 0644
put "$SRC/systemd/veilcam-console@.service" /usr/lib/systemd/system/veilcam-console@.service 0644
put "$SRC/systemd/veilcam.sysusers" /usr/lib/sysusers.d/veilcam.conf 0644
put "$TMP/board.conf" /usr/lib/sysusers.d/veilcam-board.conf 0644
put "$SRC/systemd/veilcam.tmpfiles" /usr/lib/tmpfiles.d/veilcam.conf 0644
put "$SRC/board/udev/99-veilcam.rules" /usr/lib/udev/rules.d/99-veilcam.rules 0644
put "$SRC/systemd/veilcam.journald" /usr/lib/systemd/journald.conf.d/veilcam.conf 0644
put "$SRC/README.md" /usr/share/doc/veilcam/README.md 0644
put "$SRC/docs/field.md" /usr/share/doc/veilcam/field.md 0644

# The service user, its groups and its directories, inside the target root.
if [ "$CHECK" = 1 ]; then
    getent_root() { awk -F: -v u=veilcam '$1 == u' "$R/etc/passwd" 2>/dev/null; }
    [ -n "$(getent_root)" ] || { CHANGED=1; say "would create user veilcam (systemd-sysusers)"; }
    [ -d "$R/var/lib/veilcam" ] || { CHANGED=1; say "would create /var/lib/veilcam"; }
else
    if [ "$ROOT" = / ]; then
        systemd-sysusers veilcam.conf veilcam-board.conf
        systemd-tmpfiles --create veilcam.conf
    else
        mkdir -p "$R/etc"
        systemd-sysusers --root "$ROOT" veilcam.conf veilcam-board.conf
        systemd-tmpfiles --root "$ROOT" --create veilcam.conf
    fi
fi

# An example configuration, only where there is none: the operator's is never overwritten.
if [ ! -e "$R/etc/veilcam/veilcam.toml" ]; then
    CHANGED=1
    if [ "$CHECK" = 1 ]; then
        say "would install /etc/veilcam/veilcam.toml (0640 root:veilcam)"
    else
        cat > "$TMP/veilcam.toml" << EOF
# veilcam configuration: every key in /usr/share/doc/veilcam (docs/config.md).
data_dir = "/var/lib/veilcam"
site = "store"

[vision]
board = "$BOARD"
models_dir = "/var/lib/veilcam/models"

[sensors]
port = "/dev/ttyVC0"
EOF
        install -D -m 0640 "$TMP/veilcam.toml" "$R/etc/veilcam/veilcam.toml"
        chown "0:$(gid veilcam)" "$R/etc/veilcam/veilcam.toml"
        say "installed /etc/veilcam/veilcam.toml (an example: edit it)"
    fi
fi

# The program: a virtual environment under /opt/veilcam from the wheel.
if [ "$VENV" = 1 ]; then
    NAME=$(basename "$WHEEL")
    if [ -f "$R/opt/veilcam/installed-wheel" ] && [ "$(cat "$R/opt/veilcam/installed-wheel")" = "$NAME" ]; then
        :
    elif [ "$CHECK" = 1 ]; then
        CHANGED=1; say "would install $NAME into /opt/veilcam"
    else
        [ "$ROOT" = / ] || { echo "install.sh: with --root, install the wheel from inside the image (chroot), or --no-venv" >&2; exit 2; }
        python3 -m venv /opt/veilcam
        /opt/veilcam/bin/pip install --quiet -c "$SRC/constraints.txt" "$WHEEL"
        printf '%s\n' "$NAME" > /opt/veilcam/installed-wheel
        CHANGED=1; say "installed $NAME into /opt/veilcam"
    fi
fi
if [ "$(readlink "$R/usr/bin/veilcam" 2>/dev/null)" != /opt/veilcam/bin/veilcam ]; then
    CHANGED=1
    if [ "$CHECK" = 1 ]; then
        say "would link /usr/bin/veilcam -> /opt/veilcam/bin/veilcam"
    else
        mkdir -p "$R/usr/bin"
        ln -sfn /opt/veilcam/bin/veilcam "$R/usr/bin/veilcam"
        say "linked /usr/bin/veilcam"
    fi
fi

# On the running board: the new rules and units take effect; the models are fetched.
if [ "$CHECK" = 0 ] && [ "$ROOT" = / ]; then
    udevadm control --reload && udevadm trigger --subsystem-match=tty --subsystem-match=video4linux || true
    systemctl daemon-reload || true
    systemctl try-restart systemd-journald.service || true
    runuser -u veilcam -- /usr/bin/veilcam models fetch --cache /var/lib/veilcam/models
    [ "$BOARD" != jetson ] || runuser -u veilcam -- /usr/bin/veilcam models fetch centerface --cache /var/lib/veilcam/models
fi

if [ "$CHECK" = 1 ]; then
    if [ "$CHANGED" = 1 ]; then exit 1; fi
    say "up to date"
elif [ "$CHANGED" = 0 ]; then
    say "nothing to do: up to date"
fi
