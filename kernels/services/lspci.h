/* lspci.h — "an lspci by language model": the boot sequence and the shell's `lspci`
 * command both print the PCI functions this way. */
#ifndef LSPCI_H
#define LSPCI_H

/* Prints "PCI: N devices", then one line per function (bus:dev.fn vendor:device class);
 * with describe != 0 the model completes "PCI device VVVV:DDDD is" for each (at most
 * 20 tokens, control characters replaced so each device stays one line). */
void kernel_lspci(int describe);

#endif
