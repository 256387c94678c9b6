/* kmodel.c — the embedded model, seen from the kernel (see kmodel.h).
 *
 * INTERIM: while the inference core (slm.h) is being written, building with
 * -DAUTON_SLM_CORE_PENDING compiles it out: the kernel only checks the GGUF
 * magic and reports that it cannot run the model. */
#include "kmodel.h"
#include "klib.h"
#include "platform.h"
#include "printf.h"

static int ready;

static size_t embedded_size(void) {
    return (size_t)((uintptr_t)slm_model_end - (uintptr_t)slm_model_start);
}

int kmodel_ready(void) { return ready; }

#ifdef AUTON_SLM_CORE_PENDING
int kmodel_init(void) {
    size_t n = embedded_size();
    if (n == 0) {
        kprintf("SLM: no embedded model\n");
        return 0;
    }
    kprintf("SLM: Loading embedded model (%lu bytes)\n", (unsigned long)n);
    if (n < 4 || memcmp(slm_model_start, "GGUF", 4) != 0)
        kprintf("SLM: model rejected: not a GGUF file (bad magic)\n");
    else
        kprintf("SLM: model rejected: inference core not built in (AUTON_SLM_CORE_PENDING)\n");
    return 0;
}

void kmodel_print_info(void) { kprintf("error: no model loaded\n"); }

int kmodel_complete(const char *prompt, int max_tokens, char *out, size_t outlen,
                    struct kmodel_stats *st) {
    (void)prompt, (void)max_tokens, (void)st;
    ksnprintf(out, outlen, "inference core not built in");
    return -1;
}
#endif
