// build.ts — the aarch64 port's build facts for kernels/tools/kbuild.ts (the arch-specific part
// of ArchBuild; kbuild adds the shared flags, linker script and source lists).
//
// No -mstrict-align: boot.S turns the MMU on (mmu.c) before any C but mmu_enable() runs,
// so RAM is Normal memory where unaligned accesses are legal. -mno-outline-atomics: gcc 12
// otherwise calls libgcc's LSE-detecting helpers, which expect a Linux auxv.

import type { ArchSpecific } from '../tools/port.js'

export const aarch64Build: ArchSpecific = {
  cc: 'aarch64-linux-gnu-gcc',
  cflags: ['-mcpu=cortex-a57', '-mno-outline-atomics'],
  sharedDirs: ['kernels/fdt'], // QEMU virt hands the kernel a DTB
  objcopy: 'aarch64-linux-gnu-objcopy',
  objcopyTarget: 'elf64-littleaarch64',
  objcopyArch: 'aarch64',
  qemu: {
    binary: 'qemu-system-aarch64',
    // virt boots an ELF at EL1; PSCI (hvc) powers it off. e1000e is PCI device 8086:10d3,
    // the one the model is asked about, as on x86_64.
    args: ['-M', 'virt', '-cpu', 'cortex-a57', '-m', '256M', '-display', 'none', '-no-reboot',
      '-nic', 'none', '-device', 'e1000e'],
  },
}
