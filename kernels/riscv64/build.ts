// build.ts — the riscv64 port's build facts for kernels/tools/kbuild.ts (the arch-specific part
// of ArchBuild; kbuild adds the shared flags, linker script and source lists).
//
// medany: the kernel is linked at 0x80200000, beyond medlow's ±2 GiB around 0.
// The model object from `objcopy -I binary` carries no float-ABI flags; ld accepts it
// next to lp64d objects because it holds data only.

import type { ArchSpecific } from '../tools/port.js'

export const riscv64Build: ArchSpecific = {
  cc: 'riscv64-linux-gnu-gcc',
  cflags: ['-march=rv64gc', '-mabi=lp64d', '-mcmodel=medany'],
  sharedDirs: ['kernels/fdt'], // QEMU virt hands the kernel a DTB
  objcopy: 'riscv64-linux-gnu-objcopy',
  objcopyTarget: 'elf64-littleriscv',
  objcopyArch: 'riscv:rv64',
  qemu: {
    binary: 'qemu-system-riscv64',
    // -bios default: OpenSBI starts the kernel at 0x80200000 in S-mode with a1 = DTB.
    // e1000e is PCI device 8086:10d3, the one the model is asked about, as on x86_64.
    args: ['-M', 'virt', '-bios', 'default', '-m', '256M', '-display', 'none', '-no-reboot',
      '-nic', 'none', '-device', 'e1000e'],
  },
}
