// build.ts — the x86_64 port's build facts for kernels/tools/kbuild.ts (the arch-specific part
// of ArchBuild; kbuild adds the shared flags, linker script and source lists).
//
// SSE2 only (-mno-avx): every x86_64 CPU has it and QEMU TCG's default CPU has no AVX.
// No red zone: exceptions push onto the interrupted stack. The image sits at 1 MiB, so
// the small code model reaches every symbol.

import type { ArchSpecific } from '../tools/port.js'

export const x86_64Build: ArchSpecific = {
  cc: 'gcc',
  cflags: ['-m64', '-march=x86-64', '-msse2', '-mno-avx', '-mno-red-zone', '-mcmodel=small'],
  sharedDirs: [], // no DTB: multiboot memory map and port I/O
  objcopy: 'objcopy',
  objcopyTarget: 'elf64-x86-64',
  objcopyArch: 'i386:x86-64',
  qemu: {
    binary: 'qemu-system-x86_64',
    // e1000e (8086:10d3) is the device the model is asked about; a restricted user-mode
    // netdev gives it a peer (no QEMU warning) without any host network access. ACPI
    // powers off; isa-debug-exit lets a crash end QEMU at once (status 33).
    args: ['-machine', 'pc', '-m', '256M', '-display', 'none', '-no-reboot', '-nic', 'none',
      '-netdev', 'user,id=n0,restrict=on', '-device', 'e1000e,netdev=n0',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'],
  },
}
