// port.ts — what each arch port (kernels/<arch>/build.ts) says about its own build: the
// arch-specific part of kbuild's ArchBuild. Types only, so a port depends on this
// contract and never on kernels/tools/kbuild.ts, which imports the ports.

export type Arch = 'x86_64' | 'aarch64' | 'riscv64'

export interface ArchSpecific {
  /** C compiler, also the assembler (.S) and the linker driver. */
  cc: string
  /** The port's flags, after kbuild's shared ones. */
  cflags: string[]
  /** Shared folders besides kernels/inference and kernels/services that this port
   *  compiles: kernels/fdt (the DTB reader and RAM regions) for the boards QEMU hands a DTB. */
  sharedDirs: string[]
  /** objcopy binary and the BFD names for `-I binary` → this arch's ELF. */
  objcopy: string
  objcopyTarget: string
  objcopyArch: string
  /** How to boot it: QEMU binary and machine arguments (serial is added by the driver). */
  qemu: { binary: string; args: string[] }
}
