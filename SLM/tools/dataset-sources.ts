// Where the corpus comes from: default paths of the Debian-packaged sources, and the fixed
// list of man pages used as prose. The list is fixed (not "whatever is installed") so that
// two machines with the same package versions build byte-identical datasets.

export const DEFAULT_PCI_IDS = '/usr/share/misc/pci.ids'; // Debian package `pci.ids`
export const DEFAULT_USB_IDS = '/usr/share/misc/usb.ids'; // Debian package `usb.ids` (optional)
export const DEFAULT_MAN_DIR = '/usr/share/man'; // Debian packages `manpages`, `manpages-dev`

/** OS and hardware pages from sections 2 (manpages-dev), 4, 5 and 7 (manpages). */
export const DEFAULT_MAN_PAGES: readonly string[] = `
mem.4 null.4 random.4 tty.4 console_codes.4 hd.4 sd.4 lp.4 cpuid.4 msr.4 loop.4 full.4 initrd.4
vcs.4 veth.4 smartpqi.4 hpsa.4 cciss.4 lirc.4 st.4
proc.5 filesystems.5 elf.5 core.5 passwd.5 hosts.5 resolv.conf.5 services.5 protocols.5
networks.5 nsswitch.conf.5 sysfs.5 tmpfs.5 slabinfo.5
ip.7 tcp.7 udp.7 socket.7 unix.7 netlink.7 packet.7 signal.7 pipe.7 epoll.7 inotify.7 futex.7
capabilities.7 cgroups.7 namespaces.7 boot.7 bootparam.7 hier.7 mount_namespaces.7 vdso.7
sched.7 time.7 utf-8.7 ascii.7 address_families.7 ipv6.7 arp.7 icmp.7 raw.7 netdevice.7 vsock.7
kernel_lockdown.7 uri.7 standards.7 credentials.7 pid_namespaces.7 user_namespaces.7
shm_overview.7 sem_overview.7 mq_overview.7
open.2 read.2 write.2 close.2 mmap.2 fork.2 execve.2 clone.2 ioctl.2 socket.2 bind.2 connect.2
accept.2 listen.2 pipe.2 dup.2 kill.2 sigaction.2 brk.2 mount.2 reboot.2 ptrace.2 syscall.2
syscalls.2 iopl.2 ioperm.2 getpid.2 wait.2 nanosleep.2 select.2 poll.2 uname.2 init_module.2
mprotect.2 madvise.2 futex.2 gettimeofday.2 clock_gettime.2 sysinfo.2 intro.2 stat.2 lseek.2
fcntl.2 chdir.2 chmod.2 umask.2 setuid.2 exit.2 sched_setaffinity.2 getrlimit.2 send.2 recv.2
shmget.2 eventfd.2 timerfd_create.2 memfd_create.2 bpf.2 perf_event_open.2 seccomp.2 prctl.2
arch_prctl.2 modify_ldt.2 cacheflush.2 getcpu.2 mlock.2 swapon.2 sync.2 fsync.2 statfs.2
getdents.2 inotify_add_watch.2
`.split(/\s+/).filter(Boolean);

/** Devices every dataset must keep in training (and in the probe set): the demo queries. */
export const PINNED_DEVICES: readonly string[] = ['8086:10d3', '8086:100e'];
