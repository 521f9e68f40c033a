/*
 * Shared by the libFuzzer targets tests/fuzz/fuzz_<parser>.c. Each target
 * defines LLVMFuzzerTestOneInput(), calls the product's own entry point for
 * one parser of outside input and frees everything it got (a leak is a
 * finding too). Built with clang -DTOLLGATE_FUZZ=ON the targets link
 * libFuzzer; in the ordinary builds they link driver.c instead, which runs
 * them once over their corpus (the regression test fuzz.<parser>).
 */
#ifndef TOLLGATE_FUZZ_H
#define TOLLGATE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* data as a NUL-terminated heap string (free it); embedded NULs stay, so
 * a string entry point sees the input up to the first one. */
char *fuzz_cstr(const uint8_t *data, size_t size);

/*
 * Split data at the first occurrence of the byte sep: *a_len gets the
 * length before it and *b, *b_len the rest (empty when sep is absent). For
 * entry points that take two inputs (a header and a body).
 */
void fuzz_split(size_t *a_len,
                const uint8_t **b,
                size_t *b_len,
                const uint8_t *data,
                size_t size,
                uint8_t sep);

/* A file of the source tree (TG_FUZZ_SOURCE_DIR/rel) read whole, for
 * fixed material (a trust root, a key) loaded once at start; exits on
 * failure, as a target without its material would fuzz nothing. */
char *fuzz_source_file(size_t *len_out, const char *rel);

/*
 * For targets of stateDir files: a private directory made once (named
 * after tag, under $TMPDIR) and removed with every file in it at exit;
 * fuzz_tmp_path() gives the path of one file in it (a string that lives
 * until exit). Both abort on failure.
 */
void fuzz_tmp_dir(const char *tag);
const char *fuzz_tmp_path(const char *name);

/* Appends "end <SHA-256 of what b holds, hex>\n": the end line every
 * stateDir file of tollgate's is sealed with. Aborts on failure. */
struct tg_buf;
void fuzz_seal(struct tg_buf *b);

/* Aborts unless files a and b can be read and hold the same bytes:
 * what a stateDir file's save, load and save again must give. */
void fuzz_same_files(const char *a, const char *b);

#endif
