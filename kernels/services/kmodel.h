/* kmodel.h — the kernel's embedded model: the one place that talks to the
 * inference core (slm.h), so the shell and boot code stay independent of it. */
#ifndef KMODEL_H
#define KMODEL_H

#include <stddef.h>
#include <stdint.h>

struct kmodel_stats {
    int tokens;        /* tokens generated */
    int prompt_tokens; /* tokens of the prompt (evaluated first) */
    uint64_t ns;       /* wall time of prompt + generation */
};

/* Loads the model embedded at slm_model_start, printing the boot log lines:
 * "SLM: Loading embedded model (N bytes)", metadata, "SLM: Neural backend ready"
 * — or "SLM: no embedded model" / "SLM: model rejected: <reason>".
 * Returns 1 when the model is ready. */
int kmodel_init(void);
int kmodel_ready(void);
void kmodel_print_info(void);

/* Greedy completion of prompt, up to max_tokens, stopping at the end of text, a
 * newline, or a '.' followed by whitespace (the end of the sentence). Writes the
 * completion text (without the prompt) to out. Returns 0, or -1 with an error
 * message in out. */
int kmodel_complete(const char *prompt, int max_tokens, char *out, size_t outlen,
                    struct kmodel_stats *st);

#endif
