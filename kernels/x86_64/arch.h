/* arch.h — x86_64-internal interfaces between the boot pieces (not used by common code). */
#ifndef X86_ARCH_H
#define X86_ARCH_H

#include <stdint.h>

void serial_init(void);
void idt_init(void);
void time_init(void);               /* calibrates the TSC against the PIT */
void memmap_init(uint32_t magic, uint32_t mbi_phys); /* copies the multiboot memory map */

/* Linker-script symbols bounding the loaded image (see linker.ld). */
extern char __kernel_start[], __kernel_end[];

#endif
