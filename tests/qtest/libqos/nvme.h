/*
 * libqos NVMe host driver (qnvme_), used by the tests/qtest/nvme-*-test.c
 * qtests of our NVMe controller.
 *
 * It talks to the controller the way a host driver does: PCI config space,
 * the registers and doorbells in BAR0 (base 3.1.4), and queues, PRPs and
 * SGLs in guest memory. Completions are found by polling the phase tag of
 * the next CQ entry (base 4.6), always with a time limit, so a controller
 * that never answers fails the test instead of hanging it.
 *
 * Everything here works on host-order copies of the spec structures from
 * include/block/nvme.h; the conversion to and from little-endian happens
 * when an SQE is written and a CQE is read.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef LIBQOS_NVME_H
#define LIBQOS_NVME_H

#include "qemu/units.h"
#include "libqos.h"
#include "pci.h"
#include "block/nvme.h"

#define QNVME_SLOT          4
#define QNVME_ADDR          "addr=4.0"
#define QNVME_SLOT2         5           /* a second one, qnvme_attach() */
#define QNVME_ADDR2         "addr=5.0"
#define QNVME_SERIAL        "qtest-nvme-01"
#define QNVME_PAGE          4096u
#define QNVME_AQ_ENTRIES    32          /* admin SQ and CQ */
#define QNVME_IOQ_ENTRIES   16
#define QNVME_MAX_QID       8           /* I/O queues the driver tracks */
#define QNVME_STASH         16          /* early completions kept aside */
#define QNVME_TIMEOUT_US    (5 * G_USEC_PER_SEC)
#define QNVME_SHORT_US      (200 * 1000)   /* "nothing happens" waits */
#define QNVME_POLL_STEP_NS  10000       /* virtual time let pass per poll */

/*
 * What a guest buffer holds before the controller is to fill it: not zero,
 * so that a check for zeroes fails if the controller transferred nothing.
 */
#define QNVME_FILL          0xa5

/* Two backing images: d0 (16 MiB) and d1 (8 MiB), both raw temp files. */
#define QNVME_IMG0_SIZE     (16 * MiB)
#define QNVME_IMG1_SIZE     (8 * MiB)
#define QNVME_NLBAS0        (QNVME_IMG0_SIZE / 512)     /* d0's 512 B blocks */
#define QNVME_DEFAULT_DEV \
    "-device nvme,id=c0," QNVME_ADDR ",serial=" QNVME_SERIAL ",drive=d0"

/*
 * Neither RAM nor MMIO: the machine has 128 MiB, so 1 TiB is far beyond it
 * (and below any CPU's physical address limit).
 */
#define QNVME_NOT_RAM       (1ull << 40)

/* The status field of a CQE without the phase tag, as NVME_STATUS() builds. */
#define QNVME_ST(sct, sc)       NVME_STATUS(sct, sc)
#define QNVME_ST_DNR(sct, sc)   (NVME_STATUS(sct, sc) | NVME_DNR)
#define QNVME_ST_MASK           ((uint16_t)~NVME_MORE)

/*
 * The status qnvme_exec() returns for a command that never completed (no
 * status the spec defines).
 */
#define QNVME_ST_NO_ANSWER  0x7fff

/* Fail the running test and go on (g_test_fail_printf is GLib 2.70) */
#define qnvme_fail(...) \
    do { g_test_message(__VA_ARGS__); g_test_fail(); } while (0)

/* Compare a status with what is expected; M (more in error log) is ignored. */
#define qnvme_assert_status(st, want) \
    g_assert_cmphex((uint16_t)(st) & QNVME_ST_MASK, ==, (uint16_t)(want))
/* ... and DNR too, where the specification leaves it to the controller. */
#define qnvme_assert_status_any_dnr(st, want) \
    g_assert_cmphex((uint16_t)(st) & QNVME_ST_MASK & ~NVME_DNR, ==, \
                    (uint16_t)(want) & ~NVME_DNR)
#define qnvme_assert_ok(st)     qnvme_assert_status(st, NVME_SC_SUCCESS)

#define QNVME_CC_DEFAULT \
    (R_NVME_CC_EN_MASK | (6u << R_NVME_CC_IOSQES_SHIFT) | \
     (4u << R_NVME_CC_IOCQES_SHIFT))

typedef struct QNvmeQueue {
    uint64_t addr;          /* guest address of the ring */
    uint16_t entries;
    uint16_t ptr;           /* SQ: tail, CQ: head */
    uint16_t cqid;          /* SQ: its CQ */
    bool     phase;         /* CQ: phase tag of the next new entry */
    bool     live;
} QNvmeQueue;

typedef struct QNvmeStashed {
    bool     used;
    uint16_t cqid;
    NvmeCqe  cqe;
} QNvmeStashed;

typedef struct QNvmeCtrl {
    QOSState   *qs;
    QTestState *qts;
    bool       shares_qs;   /* a second controller of qnvme_attach() */
    QPCIDevice *pdev;
    QPCIBar    bar;
    uint64_t   bar_size;
    char       *img[2];
    QNvmeQueue sq[QNVME_MAX_QID + 1];
    QNvmeQueue cq[QNVME_MAX_QID + 1];
    QNvmeStashed stash[QNVME_STASH];
    uint16_t   next_cid;
    bool       msix;
    bool       dead;        /* a command timed out: fail the rest at once */
    uint64_t   dbbuf_dbs;   /* shadow doorbells (base 5.8), 0 if not set up */
    uint32_t   page_size;   /* CC.MPS in bytes: PRPs and queue memory */
} QNvmeCtrl;

/* ---- boot and teardown -------------------------------------------------- */

/* A raw image of @size bytes in a temp file; returns its path. */
char *qnvme_make_image(uint64_t size);

/*
 * Our QEMU build has no firmware of its own (Debian's source strips the
 * blobs): q35 needs SeaBIOS, passed with -L from the directories in
 * QNVME_FIRMWARE (':'-separated), by default Debian's seabios and
 * qemu-system-data packages. Returns those -L options.
 */
char *qnvme_firmware_args(void);

/* Find the controller in @slot, map BAR0 and enable bus mastering. */
void qnvme_probe(QNvmeCtrl *c, int slot);

/*
 * Boot a q35 machine with drives d0 and d1 (raw temp files) and the devices
 * in @fmt (NULL: one controller, id c0, with namespace 1 on d0); the
 * controller must sit at QNVME_ADDR. Maps BAR0 and enables bus mastering;
 * does not enable the controller.
 */
QNvmeCtrl *qnvme_boot(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
/* The same on machine type @machine ("pc", say), with the devices @devs */
QNvmeCtrl *qnvme_boot_machine(const char *machine, const char *devs);
/* The iothread QNVME_IOTHREAD=1 gives every controller of the command line */
#define QNVME_IOTHREAD_ID   "qnvme-io"
bool qnvme_iothread_mode(void);

/*
 * A second controller of the machine @first booted, in @slot; it shares the
 * machine and its guest memory allocator. Shut it down before @first.
 */
QNvmeCtrl *qnvme_attach(QNvmeCtrl *first, int slot);
void qnvme_shutdown(QNvmeCtrl *c);

uint64_t qnvme_alloc(QNvmeCtrl *c, size_t size);
/* A zeroed, page-aligned guest buffer. */
uint64_t qnvme_zalloc(QNvmeCtrl *c, size_t size);
/*
 * @size bytes aligned to @align (a power of two), for memory that must
 * start on a host memory page of CC.MPS: the allocator's own pages are
 * 4 KiB. Never freed.
 */
uint64_t qnvme_alloc_aligned(QNvmeCtrl *c, size_t size, uint64_t align);
/* Zeroed memory on a page of its own size (CC.MPS): queues and PRP lists */
uint64_t qnvme_page_zalloc(QNvmeCtrl *c, size_t size);

/* ---- registers and doorbells -------------------------------------------- */

uint32_t qnvme_readl(QNvmeCtrl *c, uint64_t off);
void qnvme_writel(QNvmeCtrl *c, uint64_t off, uint32_t val);
/* The guest physical address of BAR0: MMIO, never a valid data buffer. */
uint64_t qnvme_bar_addr(QNvmeCtrl *c);
/* 64-bit registers as two 32-bit accesses, low dword first (base 3.1.4). */
uint64_t qnvme_readq(QNvmeCtrl *c, uint64_t off);
void qnvme_writeq(QNvmeCtrl *c, uint64_t off, uint64_t val);

/* Doorbell offsets with CAP.DSTRD 0 (base 3.1.4.21). */
uint64_t qnvme_sq_db(uint16_t qid);
uint64_t qnvme_cq_db(uint16_t qid);

/*
 * Write a doorbell. With shadow doorbells configured the shadow copy is
 * written first; the MMIO write is always done as well, which base 5.8
 * allows whatever the event index says.
 */
void qnvme_ring(QNvmeCtrl *c, uint64_t db_off, uint32_t val);

/* Poll until (reg & mask) == want; false after the time limit. */
bool qnvme_wait_reg(QNvmeCtrl *c, uint64_t off, uint32_t mask, uint32_t want);

/* ---- controller enable / disable ---------------------------------------- */

/* Forget the I/O queues, stashed completions and shadow doorbells. */
void qnvme_reset_driver_queues(QNvmeCtrl *c);
/*
 * Program AQA/ASQ/ACQ for the driver's admin queues, made on first use and
 * again when they do not start on a page of the current CC.MPS.
 */
void qnvme_setup_admin_queues(QNvmeCtrl *c);
/* CC.EN = 1 with CC value @cc; asserts that CSTS.RDY becomes 1 without CFS. */
void qnvme_enable_cc(QNvmeCtrl *c, uint32_t cc);
void qnvme_enable(QNvmeCtrl *c);
/* CC.EN = 0 (a controller reset, base 3.7.2); waits for CSTS.RDY = 0. */
void qnvme_disable(QNvmeCtrl *c);
QNvmeCtrl *qnvme_boot_enabled(void);
/* Enable MSI-X; libqos may move BAR0 when it maps the table, so re-read it. */
void qnvme_msix_enable(QNvmeCtrl *c);

/* ---- submission and completion ------------------------------------------ */

/* @cmd in wire order, as it goes into an SQ */
void qnvme_sqe_to_le(NvmeSqe *le, const NvmeSqe *cmd);
/* The status field of a (host-order) CQE without the phase tag. */
uint16_t qnvme_cqe_status(const NvmeCqe *cqe);
/* Write @cmd to SQ @sqid with a fresh CID and ring its tail doorbell. */
uint16_t qnvme_submit(QNvmeCtrl *c, uint16_t sqid, NvmeSqe *cmd);
/* The next entry of CQ @cqid if the controller posted it; no side effect. */
bool qnvme_cq_peek(QNvmeCtrl *c, uint16_t cqid, NvmeCqe *cqe);
/* Consume the entry qnvme_cq_peek() returned; @ring: ring the head doorbell. */
void qnvme_cq_pop(QNvmeCtrl *c, uint16_t cqid, bool ring);
/* Completions of other commands than the one waited for, kept aside */
bool qnvme_unstash(QNvmeCtrl *c, uint16_t cqid, uint16_t cid, NvmeCqe *cqe);
void qnvme_stash_cqe(QNvmeCtrl *c, uint16_t cqid, const NvmeCqe *cqe);

/*
 * Wait up to @timeout_us for the completion of command @cid on CQ @cqid.
 * Completions of other commands that arrive meanwhile (an AER, say) are kept
 * for a later call. False if it did not come in time.
 */
bool qnvme_wait_cid(QNvmeCtrl *c, uint16_t cqid, uint16_t cid, NvmeCqe *cqe,
                    gint64 timeout_us);
/*
 * The same, letting @step_ns of virtual time pass per poll instead of
 * QNVME_POLL_STEP_NS: big steps for commands that wait on a throttled drive.
 */
bool qnvme_wait_cid_step(QNvmeCtrl *c, uint16_t cqid, uint16_t cid,
                         NvmeCqe *cqe, gint64 timeout_us, int64_t step_ns);
/*
 * The status of command @cid, waited for as qnvme_wait_cid_step() does; one
 * that does not complete in time fails the test and gives
 * QNVME_ST_NO_ANSWER (the controller is not marked dead).
 */
uint16_t qnvme_wait_status_step(QNvmeCtrl *c, uint16_t cqid, uint16_t cid,
                                gint64 timeout_us, int64_t step_ns);

/*
 * Submit @cmd on SQ @sqid and wait for it; returns the status, @cqe if
 * wanted. A command that never completes fails the test, and so does every
 * later one on the controller, at once, with status QNVME_ST_NO_ANSWER:
 * the other tests of the run go on.
 */
uint16_t qnvme_exec(QNvmeCtrl *c, uint16_t sqid, NvmeSqe *cmd, NvmeCqe *out);
uint16_t qnvme_admin(QNvmeCtrl *c, NvmeSqe *cmd, NvmeCqe *out);

/* True if no new entry shows up on CQ @cqid within @us of real time. */
bool qnvme_cq_stays_empty(QNvmeCtrl *c, uint16_t cqid, gint64 us);

/* ---- data pointers ------------------------------------------------------ */

/*
 * Point @cmd's PRP1/PRP2 at @len bytes at guest address @buf (base 4.3),
 * in host memory pages of CC.MPS: PRP1 may carry an offset, later entries
 * are page aligned; more than two pages take a PRP list, chained through
 * the last entry of each list page when needed.
 */
void qnvme_set_prps(QNvmeCtrl *c, NvmeSqe *cmd, uint64_t buf, size_t len);
/* Point @cmd's PRPs at a fresh zeroed guest buffer of @len; returns it. */
uint64_t qnvme_prp_zbuf(QNvmeCtrl *c, NvmeSqe *cmd, size_t len);
/* An SGL descriptor in wire order (base 4.4). */
NvmeSgl qnvme_sgl(uint64_t addr, uint32_t len, uint8_t type);
/* For the SQE's own descriptor, which qnvme_sqe_to_le() converts. */
void qnvme_set_sgl(NvmeSqe *cmd, uint64_t addr, uint32_t len, uint8_t type);
/* An SGL segment: @n descriptors (wire order) in fresh guest memory */
uint64_t qnvme_sgl_segment(QNvmeCtrl *c, const NvmeSgl *descs, int n);

/* ---- admin commands ----------------------------------------------------- */

/*
 * Run an admin command reading @len bytes of data into @out. The buffer
 * holds QNVME_FILL before: bytes the controller does not write show as such.
 */
uint16_t qnvme_admin_read(QNvmeCtrl *c, NvmeSqe *cmd, void *out, size_t len,
                          NvmeCqe *cqe);

/*
 * The arguments of the commands below that take many, most of them 0 for
 * most calls, come in a struct: designated initialisers name the ones a
 * call sets, e.g. qnvme_identify(c, &(QNvmeIdentify){ .cns = X }, out).
 */

/* Identify (base 5.17): CNS, and the NSID and CSI it takes if any */
typedef struct QNvmeIdentify {
    uint8_t  cns;
    uint32_t nsid;
    uint8_t  csi;
} QNvmeIdentify;

/* Identify into @out (NVME_IDENTIFY_SIZE bytes) */
uint16_t qnvme_identify(QNvmeCtrl *c, const QNvmeIdentify *id, void *out);
void qnvme_identify_ctrl(QNvmeCtrl *c, NvmeIdCtrl *id);
void qnvme_identify_ns(QNvmeCtrl *c, uint32_t nsid, NvmeIdNs *id);
/* The controller still works: Identify Controller succeeds and says NN 1024. */
void qnvme_assert_alive(QNvmeCtrl *c);

/* Get Log Page (base 5.16) */
typedef struct QNvmeGetLog {
    uint8_t  lid;
    uint8_t  lsp;           /* Log Specific Parameter (CDW10 bits 14:8) */
    bool     rae;           /* Retain Asynchronous Event */
    uint32_t nsid;
    uint64_t offset;        /* Log Page Offset, in bytes */
} QNvmeGetLog;

/* Get Log Page @log into @out, @len bytes (NUMD) */
uint16_t qnvme_get_log(QNvmeCtrl *c, const QNvmeGetLog *log, void *out,
                       size_t len);
/* Read log @lid without retaining the event (RAE 0), into @out. */
void qnvme_read_log(QNvmeCtrl *c, uint8_t lid, void *out, size_t len);

/*
 * Get Features and Set Features (base 5.15, 5.27). @buf, @len: the
 * feature's data, which Get Features reads into @buf (without @buf, into
 * an 8-byte scratch buffer) and Set Features sends from it (without @buf,
 * no data pointer).
 */
typedef struct QNvmeFeat {
    uint8_t  fid;
    uint8_t  sel;           /* Get Features: Select (NVME_SEL_*) */
    bool     save;          /* Set Features: Save (SV) */
    uint32_t nsid;
    uint32_t dw11;
    void     *buf;
    size_t   len;
} QNvmeFeat;

/* Get or Set Features @feat; @dw0 (if not NULL): the CQE's Dword 0 */
uint16_t qnvme_get_features(QNvmeCtrl *c, const QNvmeFeat *feat,
                            uint32_t *dw0);
uint16_t qnvme_set_features(QNvmeCtrl *c, const QNvmeFeat *feat,
                            uint32_t *dw0);
/* Set Features @fid (not saved, no data), which must succeed */
void qnvme_set_feature(QNvmeCtrl *c, uint8_t fid, uint32_t dw11);

/*
 * Namespace Attachment (base 5.22): select @sel for @nsid with a controller
 * list whose count field says @count and whose entries are @ids.
 */
uint16_t qnvme_ns_attachment(QNvmeCtrl *c, uint32_t sel, uint32_t nsid,
                             uint16_t count, const uint16_t *ids, int nr);

/* Submit an Asynchronous Event Request (base 5.2); returns its CID. */
uint16_t qnvme_aer_submit(QNvmeCtrl *c);
/* Wait for CQE @cid on @cqid, which must come. */
NvmeCqe qnvme_wait_cqe(QNvmeCtrl *c, uint16_t cqid, uint16_t cid);
/* Command @cid must not complete for a while. */
void qnvme_assert_pending(QNvmeCtrl *c, uint16_t cqid, uint16_t cid);
/* AER @cid completes, successfully, reporting @type/@info/@lid (base 5.2). */
void qnvme_assert_aer(QNvmeCtrl *c, uint16_t cid, uint8_t type, uint8_t info,
                      uint8_t lid);

/* Create I/O Completion or Submission Queue (base 5.4, 5.5) */
typedef struct QNvmeCreateQ {
    uint16_t qid;
    uint32_t entries;       /* the queue size, counted from 1 */
    uint16_t cqid;          /* SQ: the CQ its commands complete on */
    uint16_t vector;        /* CQ: its interrupt vector (IV) */
    bool     ien;           /* CQ: Interrupts Enabled */
} QNvmeCreateQ;

/*
 * Create I/O CQ or SQ @q->qid, physically contiguous, at a fresh zeroed
 * ring of @q->entries
 */
uint16_t qnvme_create_cq(QNvmeCtrl *c, const QNvmeCreateQ *q);
uint16_t qnvme_create_sq(QNvmeCtrl *c, const QNvmeCreateQ *q);
/* Delete I/O SQ or CQ @qid (@opcode: NVME_ADM_DELETE_SQ or _CQ) */
uint16_t qnvme_delete_q(QNvmeCtrl *c, uint8_t opcode, uint16_t qid);
/* I/O CQ and SQ @qid, the CQ on interrupt vector @qid under MSI-X, else 0. */
void qnvme_create_ioq_pair(QNvmeCtrl *c, uint16_t qid, uint32_t entries);
/* Boot, enable and create I/O queue pair 1. */
QNvmeCtrl *qnvme_boot_io(void);
/* Boot the devices @devs, enable, and create I/O queue pair 1. */
QNvmeCtrl *qnvme_boot_io_with(const char *devs);

/* ---- NVM commands ------------------------------------------------------- */

/* An NVM command with SLBA/NLB (NLB counted from 1) and no data pointer yet. */
NvmeSqe qnvme_rw_cmd(uint8_t opcode, uint32_t nsid, uint64_t slba,
                     uint32_t nlb);
/* Write (or Compare) @len bytes of @data to @nlb blocks at @slba, via PRPs. */
uint16_t qnvme_write(QNvmeCtrl *c, uint16_t sqid, uint8_t opcode,
                     uint32_t nsid, uint64_t slba, uint32_t nlb,
                     const void *data, size_t len);
uint16_t qnvme_read(QNvmeCtrl *c, uint16_t sqid, uint32_t nsid, uint64_t slba,
                    uint32_t nlb, void *out, size_t len);
/* An NVM command without data (Flush, Write Zeroes, Verify) on @sqid */
uint16_t qnvme_io_nodata(QNvmeCtrl *c, uint16_t sqid, uint8_t opcode,
                         uint32_t nsid, uint64_t slba, uint32_t nlb);

/* A recognisable pattern that differs per @seed and per 512-byte block. */
void qnvme_pattern(void *buf, size_t len, uint32_t seed);
bool qnvme_all_zero(const void *buf, size_t len);

/* ---- the ANA log page (base 5.16.1.12) --------------------------------- */

#define QNVME_ANA_LOG_READ      4096    /* more than any of our logs holds */
#define QNVME_ANA_DESC_NSIDS    8       /* enough for the tests' groups */
#define QNVME_ANA_GRPS          128     /* ANAGRPMAX */

/* An ANA log in host order */

typedef struct QNvmeAnaDesc {
    uint32_t grpid;
    uint32_t nnsids;
    uint64_t chgcnt;
    uint8_t  state;
    uint32_t nsids[QNVME_ANA_DESC_NSIDS];
} QNvmeAnaDesc;

typedef struct QNvmeAnaLog {
    uint64_t chgcnt;
    uint16_t ngrps;
    size_t   len;               /* up to the end of the last descriptor */
    QNvmeAnaDesc desc[QNVME_ANA_GRPS];
} QNvmeAnaLog;

/*
 * Read @c's ANA log with Log Specific Parameter @lsp and RAE @rae into @log;
 * fails the test unless reserved bytes are zero and nothing follows the
 * last NSID.
 */
void qnvme_read_ana_log(QNvmeCtrl *c, uint8_t lsp, bool rae, QNvmeAnaLog *log);

/* ---- NVM commands with test data ---------------------------------------- */

/* Read @nlb 512-byte blocks of @nsid through @sqid; returns the status. */
uint16_t qnvme_read_blocks(QNvmeCtrl *c, uint16_t sqid, uint32_t nsid,
                           uint64_t slba, uint32_t nlb);
/* Write pattern @seed to @nlb 512-byte blocks of @nsid through @sqid. */
void qnvme_write_pattern(QNvmeCtrl *c, uint16_t sqid, uint32_t nsid,
                         uint64_t slba, uint32_t nlb, uint32_t seed);
/* The blocks read back through @sqid hold pattern @seed. */
void qnvme_assert_pattern(QNvmeCtrl *c, uint16_t sqid, uint32_t nsid,
                          uint64_t slba, uint32_t nlb, uint32_t seed);

/* ---- the test programs' tables of tests --------------------------------- */

typedef struct QNvmeTest {
    const char *name;
    void (*fn)(void);
} QNvmeTest;

typedef struct QNvmeDataTest {
    const char *name;
    void (*fn)(const void *);
    const void *data;
} QNvmeDataTest;

/* g_test_init(), with failed checks that fail their test but not the run */
void qnvme_test_init(int *argc, char ***argv);
/* Add the @n tests of @tests as qtests "@prefix/NAME". */
void qnvme_add_tests(const char *prefix, const QNvmeTest *tests, size_t n);
/* The same for tests with data; '_' in their paths becomes '-'. */
void qnvme_add_data_tests(const char *prefix, const QNvmeDataTest *tests,
                          size_t n);

#endif /* LIBQOS_NVME_H */
