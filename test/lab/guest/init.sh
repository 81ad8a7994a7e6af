#!/bin/sh
# PID 1 of a lab node (User-Mode Linux, root on hostfs = the host's /).
# Puts a tmpfs-backed overlay over the host's root and chroots into it, so
# nothing the guest writes reaches the host or the other nodes; only the lab
# directory is bound read-write, the repository read-only.
# Inputs come from the kernel command line as environment variables:
#   LAB_NODE (node1…), LAB_DIR (shared lab dir), LAB_ROOT (repository root),
#   LAB_NODE_BIN (the host's node binary),
#   LAB_ADDRS ("vec0:10.99.0.1:10.99.0.2,vec1:…" = interface:own:peer, one per link),
#   LAB_ROOT_DISK (ext4 block device for the overlay's upper layer; unset: tmpfs).
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH
say() { echo "lab-init[$LAB_NODE]: $*"; }
fail() { say "FATAL: $*"; echo o > /proc/sysrq-trigger; sleep 5; exit 1; }

if [ "$1" = stage2 ]; then
  # Inside the overlay root. The agent restarts if it dies; PID 1 must never
  # exit (that panics the kernel).
  cd /
  while :; do
    /usr/bin/env -i PATH="$PATH" HOME=/root LANG=C.UTF-8 \
      "${LAB_NODE_BIN:-/usr/bin/node}" "$LAB_ROOT/dist/test/lab/guest/agent.js" "$LAB_DIR/$LAB_NODE"
    say "agent exited with $?; restarting"
    sleep 1
  done
fi

mount -t proc proc /proc || fail "mount /proc"
mount -t sysfs sysfs /sys
KVER=$(uname -r)
MODS=/usr/lib/uml/modules/$KVER

# Overlay: lower = host root (hostfs), upper = the node's root disk (ext4,
# made by the host), so /etc, /var/lib and /root survive a crash and a boot
# again like a real machine's; /run and /tmp are tmpfs and start empty.
mount -t tmpfs -o size=256m,mode=0755 tmpfs /run || fail "tmpfs on /run"
mkdir -p /run/ovl/disk /run/ovl/root /run/dev
if [ -n "$LAB_ROOT_DISK" ]; then
  mount -t devtmpfs devtmpfs /run/dev || fail "devtmpfs"
  # A crash leaves the journal to replay: the mount does it.
  mount -t ext4 "/run$LAB_ROOT_DISK" /run/ovl/disk || fail "mount root disk $LAB_ROOT_DISK"
fi
FIRST_BOOT=
[ -d /run/ovl/disk/upper ] || FIRST_BOOT=1
mkdir -p /run/ovl/disk/upper /run/ovl/disk/work
insmod "$MODS/kernel/fs/overlayfs/overlay.ko" || fail "insmod overlay"
mount -t overlay overlay -o lowerdir=/,upperdir=/run/ovl/disk/upper,workdir=/run/ovl/disk/work /run/ovl/root || fail "mount overlay"
R=/run/ovl/root

mount -t proc proc $R/proc
mount -t sysfs sysfs $R/sys
mount -t devtmpfs devtmpfs $R/dev
mkdir -p $R/dev/pts $R/dev/shm
mount -t devpts devpts $R/dev/pts
mount -t tmpfs -o mode=1777 tmpfs $R/dev/shm
mount -t tmpfs -o mode=0755 tmpfs $R/run
mount -t tmpfs -o mode=1777 tmpfs $R/tmp
# The repository read-only (fresh view of host files, no copy-up), the lab dir read-write.
# The repository may live under a path the guest covers with its own tmpfs
# (a clone in /tmp): create the mount point inside that tmpfs first.
mkdir -p "$R$LAB_ROOT" 2>/dev/null
mount --bind "$LAB_ROOT" "$R$LAB_ROOT" || fail "bind repository $LAB_ROOT"
mount -o remount,bind,ro "$R$LAB_ROOT" || fail "remount repository read-only"
mkdir -p "$R$LAB_DIR" 2>/dev/null
mount --bind "$LAB_DIR" "$R$LAB_DIR" || fail "bind lab dir"
# The repository once more where an unprivileged user can read it: a clone
# under a directory only root may enter (/root, a mktemp -d) is out of reach
# at its own path. An overlay with its upper layer on this boot's tmpfs opens
# the top directory's mode in the guest alone; the host's files are untouched.
mkdir -p /run/ovl/checkout/upper /run/ovl/checkout/work "$R/run/hastor-checkout"
if mount -t overlay overlay -o "lowerdir=$LAB_ROOT,upperdir=/run/ovl/checkout/upper,workdir=/run/ovl/checkout/work" "$R/run/hastor-checkout"; then
  chmod 0755 "$R/run/hastor-checkout"
else
  say "WARNING: no unprivileged view of the repository at /run/hastor-checkout"
fi

# modprobe looks under /usr/lib/modules/<uname -r>.
mkdir -p $R/usr/lib/modules
ln -sfn "$MODS" "$R/usr/lib/modules/$KVER"

hostname "$LAB_NODE"
echo "$LAB_NODE" > $R/etc/hostname

if [ -n "$FIRST_BOOT" ]; then
  say "root disk: first boot"
  # No udev: LVM must not wait for it, and must only look at lab devices.
  mkdir -p $R/etc/lvm
  cat > $R/etc/lvm/lvm.conf <<'LVM'
devices {
    filter = [ "a|^/dev/ubd|", "a|^/dev/drbd|", "r|.*|" ]
    global_filter = [ "a|^/dev/ubd|", "a|^/dev/drbd|", "r|.*|" ]
    obtain_device_list_from_udev = 0
}
activation {
    udev_sync = 0
    udev_rules = 0
}
global {
    use_lvmlockd = 0
}
LVM
  rm -rf $R/etc/drbd.d/* $R/var/lib/drbd/* 2>/dev/null
  printf 'global { usage-count no; }\ninclude "drbd.d/*.res";\n' > $R/etc/drbd.conf
else
  say "root disk: kept from the previous boot"
fi
# What systemd-tmpfiles makes at boot on a real machine (drbdadm locks in /run/lock).
mkdir -p $R/etc/drbd.d $R/var/lib/drbd $R/var/run/drbd $R/run/lock

ip link set lo up
for spec in $(echo "$LAB_ADDRS" | tr ',' ' '); do
  ifc=${spec%%:*}; rest=${spec#*:}; own=${rest%%:*}; peer=${rest#*:}
  ip link set "$ifc" up || fail "ip link set $ifc up"
  ip addr add "$own/32" dev "$ifc"
  ip route add "$peer/32" dev "$ifc"
done

say "entering the overlay root after $(cut -d' ' -f1 /proc/uptime)s"
# PID 1 itself must chroot (exec, not a child): it shares its fs root with
# kthreadd, so the kernel's usermode helpers (drbdadm handlers, modprobe)
# then run inside the overlay and see its /etc/drbd.d.
exec chroot "$R" /bin/sh "$0" stage2
