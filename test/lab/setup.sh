#!/usr/bin/env bash
# Installs and checks what the UML lab needs (Debian host, root). Idempotent:
# packages already present are not reinstalled; apt's lists are refreshed only
# when something is missing.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
PACKAGES=(user-mode-linux drbd-utils lvm2 thin-provisioning-tools lvm2-lockd sanlock kmod iproute2 openssh-server openssh-client sudo open-iscsi e2fsprogs xfsprogs prometheus prometheus-node-exporter tmux
  pacemaker corosync crmsh pcs pacemaker-cli-utils fence-agents resource-agents dlm-controld
  mariadb-server mariadb-client)

say() { printf 'lab-setup: %s\n' "$*"; }
die() { printf 'lab-setup: ERROR: %s\n' "$*" >&2; exit 1; }

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || die "not root and no sudo: run as root"
  SUDO=(sudo -n)
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    :
  else
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: the lab needs a Debian-family host"
  say "installing: ${missing[*]}"
  "${SUDO[@]}" apt-get update -qq
  # Packages that ship a daemon (mariadb, pacemaker) must not start it on the host: the lab runs them in its nodes.
  own_policy=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee /usr/sbin/policy-rc.d >/dev/null
    "${SUDO[@]}" chmod 755 /usr/sbin/policy-rc.d
    own_policy=yes
  fi
  "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ "$own_policy" = no ] || "${SUDO[@]}" rm -f /usr/sbin/policy-rc.d
  say "installed: ${missing[*]}"
else
  say "packages already installed: ${PACKAGES[*]}"
fi

# The harness ties test nodes to the test process with setpriv (util-linux).
command -v setpriv >/dev/null 2>&1 || die "setpriv (util-linux) not found"

# The kernel binary and its module tree must match each other.
[ -x /usr/bin/linux.uml ] || die "/usr/bin/linux.uml missing after install"
UML_VER=$(ls /usr/lib/uml/modules/ 2>/dev/null | sort -V | tail -n1)
[ -n "$UML_VER" ] || die "no module tree under /usr/lib/uml/modules/"
MOD_DIR=/usr/lib/uml/modules/$UML_VER
for m in drbd dm-mod overlay; do
  found=$(find "$MOD_DIR" -name "${m}.ko*" -o -name "${m//-/_}.ko*" | head -n1)
  [ -n "$found" ] || die "module $m not found under $MOD_DIR"
  say "module $m: ${found#"$MOD_DIR"/}"
done

# The Pacemaker lab: DRBD's OCF agent ships in drbd-utils, Filesystem in resource-agents,
# and lab fence agents go where Pacemaker looks for fence_* (/usr/sbin).
for f in /usr/lib/ocf/resource.d/linbit/drbd /usr/lib/ocf/resource.d/heartbeat/Filesystem /usr/lib/drbd/crm-fence-peer.sh /usr/sbin/corosync /usr/sbin/pacemakerd; do
  [ -e "$f" ] || die "$f missing after install"
done

# Guest RAM lives in a deleted file under $TMPDIR (/dev/shm by default).
SHM_DIR=${TMPDIR:-/dev/shm}
avail_kb=$(df -Pk "$SHM_DIR" | awk 'NR==2 {print $4}')
say "guest RAM dir $SHM_DIR: $((avail_kb / 1024)) MiB free"
if [ "$avail_kb" -lt $((1100 * 1024)) ]; then
  say "WARNING: under 1.1 GiB free in $SHM_DIR; set TMPDIR to a larger tmpfs or disk for two 512M nodes"
fi

ver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo '?'; }
say "UML kernel: $UML_VER (user-mode-linux $(ver user-mode-linux))"
say "DRBD module: $(modinfo -F version "$MOD_DIR"/kernel/drivers/block/drbd/drbd.ko* 2>/dev/null || echo '?')"
say "drbd-utils: $(ver drbd-utils)  lvm2: $(ver lvm2)  sanlock: $(ver sanlock)"
say "pacemaker: $(ver pacemaker)  corosync: $(ver corosync)  resource-agents: $(ver resource-agents)  fence-agents: $(ver fence-agents)"
say "node: $(node --version 2>/dev/null || echo 'missing')"
say "ok"
