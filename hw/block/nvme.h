/*
 * NVMe controller: internal interfaces shared by nvme-pci.c (PCI function,
 * registers), nvme.c (queues, request lifecycle), nvme-dma.c (PRP/SGL),
 * nvme-admin.c (admin commands, logs, events), nvme-queue.c (queue
 * commands), nvme-features.c (Set/Get Features) and nvme-io.c (NVM command
 * set). Namespaces: nvme-ns.h; subsystems: nvme-subsys.h; ANA: nvme-ana.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_H
#define HW_BLOCK_NVME_H

#include "qemu/queue.h"
#include "qemu/bitmap.h"
#include "hw/pci/pci_device.h"
#include "system/dma.h"
#include "system/block-backend.h"
#include "block/accounting.h"
#include "system/iothread.h"
#include "block/nvme.h"
#include "nvme-ns.h"
#include "nvme-subsys.h"
#include "nvme-ana.h"

#define TYPE_NVME "nvme"
OBJECT_DECLARE_SIMPLE_TYPE(NvmeCtrl, NVME)

#define NVME_ADMIN_QID          0
#define NVME_RAM_WINDOWS        4       /* RAM flat ranges mapped at once */
#define NVME_SQE_SIZE           64
#define NVME_CQE_SIZE           16
/* ceiling of the max_ioqpairs property */
#define NVME_MAX_IOQPAIRS       256
#define NVME_MAX_QUEUE_ENTRIES  2048    /* CAP.MQES + 1 */
#define NVME_ERROR_LOG_ENTRIES  64      /* ELPE + 1 */
#define NVME_AERL               3       /* 0's based: four outstanding AERs */
#define NVME_MAX_EVENTS         64      /* queued, not yet reported events */
#define NVME_DEFAULT_TEMP_K     296     /* 23 C */
/* 70 C, composite over-temperature threshold */
#define NVME_DEFAULT_TEMP_OVER  343
#define NVME_FW_REVISION        "1.0"
#define NVME_MODEL_DEFAULT      "QEMU NVMe Ctrl"
#define NVME_NQN_PREFIX         "nqn.2019-08.org.qemu:"

/*
 * A handler's return value: a status (NVME_OK or a value from nvme_status()),
 * or NVME_NO_COMPLETE when it will call nvme_req_complete() itself later.
 */
#define NVME_OK                 0
#define NVME_NO_COMPLETE        0xffff

/*
 * Parameter Error Location (base 5.16.1.2): bit @bit of SQE field @field
 * (bits 0-31 of a dword field), as the Error Information log encodes it:
 * the byte offset in the SQE, then the bit within that byte.
 */
#define NVME_ERR_LOC(field, bit) \
    ((uint16_t)((offsetof(NvmeSqe, field) + (bit) / 8) | (((bit) % 8) << 8)))
#define NVME_ERR_LOC_NONE       0xffff

typedef struct NvmeCtrl NvmeCtrl;
typedef struct NvmeRequest NvmeRequest;
typedef struct NvmeRamWindow NvmeRamWindow;   /* nvme-dma.c */

/*
 * Guest memory the controller reads or writes again and again (a queue's
 * ring, the shadow doorbell pages), mapped once while the guest's memory map
 * stays as it is, and mapped again when it changes (nvme-dma.c). Memory that
 * cannot be mapped for plain access is reached by the checked slow path.
 */
typedef struct NvmeRing {
    MemoryRegionCache cache;
    hwaddr      addr;
    hwaddr      len;
    bool        to_guest;               /* the controller writes it */
    bool        active;                 /* cache initialised */
    bool        direct;                 /* all of it is RAM, mapped */
} NvmeRing;
typedef struct NvmeSQueue NvmeSQueue;
typedef struct NvmeCQueue NvmeCQueue;

typedef uint16_t (*NvmeCmdExec)(NvmeCtrl *ctrl, NvmeRequest *req);

/*
 * Command descriptor: one table per command set feeds dispatch, the gates in
 * nvme_parse_cmd(), the Commands Supported and Effects log, and trace names.
 */
typedef struct NvmeCmdDesc {
    const char  *name;
    NvmeCmdExec exec;
    /* NVME_EFF_* for the Effects log; CSUPP implied */
    uint32_t    effects;
    uint32_t    flags;          /* NVME_CMDF_* */
    /* undo what the command holds outside the request, however it ends */
    void        (*release)(NvmeCtrl *ctrl, NvmeRequest *req);
} NvmeCmdDesc;

/* NSID must name an active namespace */
#define NVME_CMDF_NS            (1u << 0)
/* ... or may be FFFFFFFFh */
#define NVME_CMDF_NS_BCAST      (1u << 1)
/* refused when the ANA state forbids I/O */
#define NVME_CMDF_ANA           (1u << 2)
/* reads or writes the namespace: a reservation may refuse it (nvm 3.3.x) */
#define NVME_CMDF_RESV_READ     (1u << 3)
#define NVME_CMDF_RESV_WRITE    (1u << 4)

extern const NvmeCmdDesc nvme_admin_cmds[256];
extern const NvmeCmdDesc nvme_nvm_cmds[256];

/*
 * The life of a request (nvme.c owns every transition):
 *   FREE    on its SQ's free list, preallocated with the SQ
 *   ACTIVE  fetched; the command runs. It then has either one AIO in flight
 *           (aiocb set, counted in the SQ, controller and namespace), or it
 *           is parked: stopped by rerror/werror=stop, waiting for bounce
 *           memory, an outstanding AER, a Delete I/O SQ waiting for the
 *           queue's AIO. Nothing else survives a return to the main loop.
 *   DONE    status set and every resource released; waits on its CQ for a
 *           free slot, then goes back to FREE.
 * Teardown (Delete I/O SQ, controller reset, namespace removal) ends the
 * parked requests itself and waits for the AIO counts to reach zero; no
 * AIO is started once it has begun (nvme_aio_submit refuses).
 */
typedef enum NvmeReqState {
    NVME_REQ_FREE,
    NVME_REQ_ACTIVE,
    NVME_REQ_DONE,
} NvmeReqState;

/* Why an ACTIVE request without AIO waits */
typedef enum NvmeReqPark {
    NVME_PARK_NONE,
    NVME_PARK_STOPPED,          /* rerror/werror=stop: retried on resume */
    NVME_PARK_BOUNCE,           /* waits for the bounce memory budget */
    NVME_PARK_AER,              /* Asynchronous Event Request */
    NVME_PARK_DELETE_SQ,        /* Delete I/O SQ waiting for the queue */
    NVME_PARK_DELAY,            /* an injected latency (nvme-fault.c) */
} NvmeReqPark;

/* Continues a command after its AIO; @ret is the block layer's result */
typedef void (*NvmeAioDone)(NvmeRequest *req, int ret);
/* Continues a command once it may go on (bounce memory became free) */
typedef void (*NvmeReqResume)(NvmeRequest *req);

typedef enum NvmeAioKind {
    NVME_AIO_READ,
    NVME_AIO_WRITE,
    NVME_AIO_ZEROES,
    NVME_AIO_FLUSH,
} NvmeAioKind;

/* The one AIO of a request: kept, so that a retry issues it again as it was */
typedef struct NvmeAio {
    NvmeAioKind kind;
    NvmeNamespace *ns;
    int64_t     offset;
    int64_t     bytes;                  /* ZEROES */
    QEMUIOVector *qiov;                 /* READ, WRITE */
    BdrvRequestFlags flags;
    NvmeAioDone done;
} NvmeAio;

/* What a multi-step command remembers between its steps */
typedef struct NvmeRangeJob {
    uint64_t    offset;                 /* next byte of the namespace */
    uint64_t    end;
    uint64_t    done;                   /* bytes compared so far */
} NvmeRangeJob;

typedef struct NvmeFormatJob {
    uint8_t     lbaf;
    uint8_t     ses;
    uint16_t    status;                 /* first failure; the rest only ends */
    uint32_t    nsid;                   /* namespace being formatted */
    uint64_t    offset;                 /* next byte of it to erase */
} NvmeFormatJob;

typedef struct NvmeDsmJob {
    unsigned    nr;                     /* ranges */
    unsigned    next;                   /* next range to deallocate */
} NvmeDsmJob;

/*
 * Copy: the source ranges, checked and kept after the data chunk in the
 * request's bounce memory, so that a host rewriting its list meanwhile
 * changes nothing
 */
typedef struct NvmeCopySrc {
    uint64_t    slba;
    uint32_t    nlb;
} NvmeCopySrc;

typedef struct NvmeCopyJob {
    NvmeCopySrc *src;                   /* in the bounce memory */
    unsigned    nr;
    unsigned    next;                   /* range being copied */
    uint64_t    done;                   /* blocks of it copied */
    uint64_t    dlba;                   /* next destination block */
    uint32_t    chunk;                  /* blocks read, to write next */
    BdrvRequestFlags flags;             /* of the writes (FUA) */
} NvmeCopyJob;

/* A created namespace's range being zeroed (nvme-pool.c) */
typedef struct NvmePoolZeroJob {
    NvmeNamespace *ns;
    uint64_t    done;
    uint64_t    bytes;
    uint64_t    chunk;                  /* being zeroed now */
} NvmePoolZeroJob;

struct NvmeRequest {
    NvmeSQueue          *sq;
    NvmeReqState        state;
    NvmeReqPark         park;
    NvmeNamespace       *ns;            /* resolved by the gates, or NULL */
    const NvmeCmdDesc   *desc;
    NvmeSqe             cmd;            /* a copy of the SQE, little-endian */
    uint16_t            status;         /* without the phase tag */
    uint32_t            dw0, dw1;       /* completion result */
    /* NVME_ERR_LOC() of the failing field */
    uint16_t            error_loc;
    uint64_t            error_lba;
    bool                abort_requested;        /* by an Abort command */
    BlockAIOCB          *aiocb;         /* the AIO in flight, or NULL */
    NvmeAio             aio;
    NvmeReqResume       resume;         /* NVME_PARK_BOUNCE */
    BlockAcctCookie     acct;
    NvmeNamespace       *acct_ns;       /* whose statistics acct belongs to */
    QEMUIOVector        iov;            /* guest buffers, mapped (nvme-dma.c) */
    bool                iov_mapped;
    bool                iov_to_guest;   /* the controller writes guest memory */
    MemoryRegion        *iov_last_mr;   /* region of the last iov entry */
    NvmeRamWindow       *window;        /* iov entries in the RAM window */
    /* controller memory, see nvme_bounce_get */
    void                *bounce;
    size_t              bounce_len;
    QEMUIOVector        bounce_qiov;
    union {
        NvmeRangeJob    range;          /* Compare, Verify */
        NvmeFormatJob   format;
        NvmeDsmJob      dsm;
        NvmeCopyJob     copy;
        NvmePoolZeroJob pool_zero;      /* Namespace Management (create) */
        uint32_t        flush_nsid;     /* broadcast Flush: the current one */
    };
    QTAILQ_ENTRY(NvmeRequest) entry;    /* free, active or done list */
    QTAILQ_ENTRY(NvmeRequest) wait_entry;   /* NVME_PARK_BOUNCE */
    QEMUTimer           *delay_timer;   /* NVME_PARK_DELAY, made on first use */
    bool                delay_due;
};

struct NvmeSQueue {
    NvmeCtrl    *ctrl;
    uint16_t    sqid;
    uint16_t    cqid;
    uint8_t     prio;
    uint32_t    size;
    uint32_t    head;
    uint32_t    tail;
    uint64_t    dma_addr;
    NvmeRing    ring;
    QEMUBH      *bh;
    EventNotifier notifier;
    bool        ioeventfd;
    bool        deleting;               /* Delete I/O SQ in progress */
    NvmeRequest *delete_req;            /* ... completed when its AIO is over */
    unsigned    nr_aio;                 /* AIO in flight of its requests */
    bool        shadow;                 /* Doorbell Buffer Config, base 5.8 */
    hwaddr      shadow_off;             /* its entries in the two pages */
    NvmeRequest *reqs;                  /* one per entry, preallocated */
    QTAILQ_HEAD(, NvmeRequest) free_reqs;
    QTAILQ_HEAD(, NvmeRequest) out_reqs;    /* ACTIVE */
    QTAILQ_ENTRY(NvmeSQueue) cq_link;
};

struct NvmeCQueue {
    NvmeCtrl    *ctrl;
    uint16_t    cqid;
    uint16_t    vector;
    bool        irq_enabled;
    bool        phase;
    uint32_t    size;
    uint32_t    head;
    uint32_t    tail;
    uint64_t    dma_addr;
    NvmeRing    ring;
    QEMUBH      *bh;
    EventNotifier notifier;
    bool        ioeventfd;
    bool        shadow;
    hwaddr      shadow_off;
    unsigned    unsignaled;             /* CQEs since the last interrupt */
    bool        signal_due;             /* the coalescing time is over */
    QEMUTimer   *coalesce_timer;
    QTAILQ_HEAD(, NvmeSQueue) sqs;
    QTAILQ_HEAD(, NvmeRequest) done_reqs;   /* DONE, waiting for a CQ slot */
};

typedef struct NvmeAsyncEvent {
    uint8_t type;
    uint8_t info;
    uint8_t lid;
    QSIMPLEQ_ENTRY(NvmeAsyncEvent) entry;
} NvmeAsyncEvent;

/* Current values of the features of base 5.27.1 */
typedef struct NvmeFeatures {
    uint32_t    arbitration;
    uint32_t    power_mgmt;
    /* composite temperature thresholds, K */
    uint16_t    temp_over;
    uint16_t    temp_under;
    uint32_t    err_rec;
    bool        vwc;
    uint16_t    nsqa;                   /* allocated I/O queues, 0's based */
    uint16_t    ncqa;
    uint32_t    irq_coalescing;
    unsigned long *irq_coalesce_off;    /* per vector: Coalescing Disable */
    uint32_t    async_config;
    uint32_t    write_atomicity;
    uint64_t    timestamp_ms;           /* value at timestamp_set_ns */
    /* QEMU_CLOCK_VIRTUAL: host's set, or reset */
    int64_t     timestamp_set_ns;
    bool        timestamp_by_host;      /* origin: Set Features, not a reset */
    NvmeHostBehavior host_behavior;
    NvmeHostId  hostid;                 /* 81h; reservations act for it */
    bool        hostid_ext;             /* set as 128 bits (EXHID) */
} NvmeFeatures;

/* One entry of the Reservation Notification log (nvme-resv.c) */
typedef struct NvmeResvNotice {
    uint64_t    count;
    uint32_t    nsid;
    uint8_t     type;                   /* NVME_RESV_NOTICE_* */
} NvmeResvNotice;

#define NVME_RESV_NOTICES_MAX   64      /* kept unread; later ones are lost */

/* Counters behind the SMART / Health log (base 5.16.1.3) */
typedef struct NvmeSmartCounters {
    uint64_t    bytes_read;
    uint64_t    bytes_written;
    uint64_t    read_cmds;
    uint64_t    write_cmds;
    uint64_t    media_errors;
    uint64_t    power_cycles;
    uint64_t    unsafe_shutdowns;
    int64_t     power_on_ns;            /* QEMU_CLOCK_VIRTUAL at realize */
    int64_t     busy_ns;
} NvmeSmartCounters;

typedef struct NvmeParams {
    char        *serial;
    char        *model;
    uint32_t    max_ioqpairs;
    uint16_t    msix_qsize;
    uint8_t     mdts;
    /* require physically contiguous queues */
    uint8_t     cqr;
    uint32_t    mqes;
    uint8_t     dstrd;
    bool        use_intel_id;
    bool        ioeventfd;
    bool        sgl;
    uint16_t    temperature;            /* composite temperature reported, K */
    uint8_t     anatt;
} NvmeParams;

struct NvmeCtrl {
    PCIDevice   parent_obj;

    /* properties */
    NvmeParams  params;
    IOThread    *iothread;              /* see nvme_subsys_pause() */
    /* link property, or our own (own_subsys) */
    NvmeSubsystem *subsys;
    NvmeNamespace *drive_ns;            /* the namespace made from drive= */
    BlockConf   drive_conf;

    /* internal state */
    NvmeBus     bus;
    MemoryRegion iomem;                 /* registers and doorbells */
    bool        own_subsys;             /* made at realize: no subsys= */
    uint16_t    cntlid;
    char        subnqn[256];
    NvmeIdCtrl  id_ctrl;
    NvmeIdCtrlNvm id_ctrl_nvm;

    /* registers (base 3.1.4), kept in host order */
    uint64_t    cap;
    uint32_t    vs;
    uint32_t    intms;                  /* pin-based interrupt mask */
    uint32_t    cc;
    uint32_t    csts;
    uint32_t    aqa;
    uint64_t    asq;
    uint64_t    acq;
    /* pin-based: vectors with pending CQEs */
    uint32_t    irq_status;

    uint64_t    mdts_bytes;             /* MDTS in bytes, UINT64_MAX: none */
    uint32_t    page_size;              /* from CC.MPS */
    uint8_t     page_bits;
    bool        shutdown_clean;         /* for the unsafe shutdown counter */
    unsigned    shutdown_flushes;       /* CC.SHN: flushes still running */
    bool        resetting;              /* reset begun, waiting for its AIO */
    unsigned    nr_aio;                 /* AIO in flight, every queue */
    /* requests held by rerror/werror=stop */
    unsigned    nr_stopped;
    VMChangeStateEntry *vm_state;
    QEMUBH      *retry_bh;              /* resubmit stopped requests */
    QEMUBH      *teardown_bh;           /* finish deletes and resets */
    QEMUBH      *bounce_bh;             /* resume requests waiting for memory */
    /* iothread=: interrupts wait here for the main loop's irq_bh (BQL) */
    QEMUBH      *irq_bh;
    unsigned long *irq_vectors;         /* MSI-X vectors to signal */
    bool        irq_level;              /* the pin's level to set */
    /* iothread=: doorbell writes handed over (nvme_doorbell_post) */
    QEMUBH      *db_bh;
    uint64_t    *db_mail;               /* per doorbell: its last value */
    unsigned long *db_pending;          /* doorbells with a value */
    QLIST_ENTRY(NvmeCtrl) park_link;    /* its iothread's controllers */
    QEMUBH      *shutdown_bh;           /* CC.SHN from a vCPU: flush there */

    /* Controller memory that commands borrow (Compare), within a budget */
    size_t      bounce_used;
    QTAILQ_HEAD(, NvmeRequest) bounce_waiters;
    void        *verify_sink;           /* Verify reads land here, unread */

    /* index by queue id, max_ioqpairs + 1 */
    NvmeSQueue  **sq;
    NvmeCQueue  **cq;

    /* namespaces attached to this controller, by NSID */
    NvmeNamespace *namespaces[NVME_MAX_NAMESPACES + 1];

    NvmeFeatures features;
    bool        vwc_default;            /* the drive's write cache at realize */
    NvmeSmartCounters smart;

    /* asynchronous events (base 5.2) */
    NvmeRequest *aer_reqs[NVME_AERL + 1];
    unsigned    aer_outstanding;
    QSIMPLEQ_HEAD(, NvmeAsyncEvent) events;
    unsigned    nr_events;
    uint32_t    masked_lids;            /* events reported, log not yet read */

    /* Error Information log, newest first when read */
    NvmeErrorLogEntry error_log[NVME_ERROR_LOG_ENTRIES];
    unsigned    error_log_next;
    uint64_t    error_count;

    /* Doorbell Buffer Config (shadow doorbells), base 5.8 */
    uint64_t    dbbuf_dbs;
    uint64_t    dbbuf_eis;
    bool        dbbuf_enabled;
    NvmeRing    dbbuf_db_ring;
    NvmeRing    dbbuf_ei_ring;
    MemoryListener mem_listener;        /* maps the rings again */
    NvmeRamWindow *ram_windows[NVME_RAM_WINDOWS];   /* mapped guest RAM */

    /* injected faults (nvme-fault.c): stall faults, delayed commands */
    unsigned    fault_stall;
    QEMUBH      *fault_bh;
    bool        removed;                /* surprise removal: answers nothing */

    /* Changed Namespace List, base 5.16.1.5 */
    uint32_t    changed_nsids[NVME_NSID_LIST_MAX];
    unsigned    nr_changed_nsids;       /* > NVME_NSID_LIST_MAX: overflowed */

    /* Reservation Notification log, base 5.16.1.24: oldest first */
    NvmeResvNotice resv_notices[NVME_RESV_NOTICES_MAX];
    unsigned    resv_notice_first;
    unsigned    nr_resv_notices;
    uint64_t    resv_notice_count;      /* notices made, lost ones too */
};

/* ---- nvme.c: queues, the request lifecycle, teardown ---- */

/* The controller as a PCI device: no checked QOM cast on hot paths */
static inline PCIDevice *nvme_pci(NvmeCtrl *ctrl)
{
    return &ctrl->parent_obj;
}

/* Is the controller's state in an iothread (iothread=)? */
static inline bool nvme_threaded(NvmeCtrl *ctrl)
{
    return ctrl->subsys && ctrl->subsys->ctx;
}

static inline AioContext *nvme_ctx(NvmeCtrl *ctrl)
{
    return nvme_subsys_ctx(ctrl->subsys);
}

/*
 * Does the caller run where the controller's state lives (always, without
 * an iothread)? Only there may AIO start: the block layer completes it in
 * the context that started it.
 */
static inline bool nvme_in_owner(NvmeCtrl *ctrl)
{
    return !nvme_threaded(ctrl) ||
           qemu_get_current_aio_context() == nvme_ctx(ctrl);
}

/*
 * The guard against MMIO the device's own bottom halves cause (an MSI-X
 * message aimed at its registers). An iothread needs none: it reaches only
 * guest RAM and leaves interrupts to the main loop, and the guard's flag
 * belongs to the threads that hold the BQL.
 */
static inline MemReentrancyGuard *nvme_bh_guard(NvmeCtrl *ctrl)
{
    return nvme_threaded(ctrl) ? NULL : &DEVICE(ctrl)->mem_reentrancy_guard;
}

/* Does the controller process commands? Not once a reset has begun. */
static inline bool nvme_ctrl_ready(NvmeCtrl *ctrl)
{
    return FIELD_EX32(ctrl->csts, NVME_CSTS, RDY) &&
           !FIELD_EX32(ctrl->csts, NVME_CSTS, CFS) && !ctrl->resetting;
}

/* A condition the host cannot recover from without a reset (base 3.1.4.6) */
void nvme_fatal(NvmeCtrl *ctrl, const char *why);
void nvme_irq_update_pin(NvmeCtrl *ctrl);
/* A write to the doorbell area of BAR0, @offset from its start */
void nvme_doorbell_write(NvmeCtrl *ctrl, hwaddr offset, uint32_t value);
/*
 * iothread=, from a vCPU without pausing: leave the write for the iothread;
 * false if it is no plain doorbell write (then it takes the paused path)
 */
bool nvme_doorbell_post(NvmeCtrl *ctrl, hwaddr offset, uint32_t value);
/*
 * The owner: the doorbell writes left so far, before anything else; in the
 * iothread the SQs rung are fetched at once as well
 */
void nvme_doorbell_deliver(NvmeCtrl *ctrl);
/* CC.EN 1 -> 0: begins; finishes (RDY 0) when the last AIO is over */
void nvme_ctrl_reset_begin(NvmeCtrl *ctrl);
/* As nvme_ctrl_reset_begin(), finishing from the controller's own BH */
void nvme_ctrl_reset_begin_deferred(NvmeCtrl *ctrl);
/* NVM Subsystem Reset of one controller (nvme_subsys_reset) */
void nvme_ctrl_subsystem_reset(NvmeCtrl *ctrl);
/* PCI reset, unplug: reset now, waiting for this controller's AIO */
void nvme_ctrl_reset_sync(NvmeCtrl *ctrl);
/* The PCI function leaves without warning (@present false) or comes back */
void nvme_ctrl_set_present(NvmeCtrl *ctrl, bool present);
/* AIO of the controller ended: a teardown may be able to finish */
void nvme_teardown_kick(NvmeCtrl *ctrl, NvmeSQueue *sq);
void nvme_lifecycle_init(NvmeCtrl *ctrl);
void nvme_lifecycle_exit(NvmeCtrl *ctrl);

/* ---- nvme-pci.c: the PCI function ---- */

/* base 3.5.1: CC.EN 0 -> 1 */
void nvme_ctrl_start(NvmeCtrl *ctrl);

static inline uint16_t nvme_status(uint8_t sct, uint8_t sc, bool dnr)
{
    return NVME_STATUS(sct, sc) | (dnr ? NVME_DNR : 0);
}

static inline uint16_t nvme_cid(NvmeRequest *req)
{
    return le16_to_cpu(req->cmd.cid);
}

/* A status with DNR, recording the failing field for the error log */
static inline uint16_t nvme_adm_error(NvmeRequest *req, uint8_t sct,
                                      uint8_t sc, uint16_t loc)
{
    req->error_loc = loc;
    return nvme_status(sct, sc, true);
}

/* NSID 0, above NN, or FFFFFFFFh where it is not allowed (base 3.2.1.2) */
static inline uint16_t nvme_invalid_nsid(NvmeRequest *req)
{
    return nvme_adm_error(req, NVME_SCT_GENERIC, NVME_SC_INVALID_NSID,
                          NVME_ERR_LOC(nsid, 0));
}

/*
 * A field of the command was invalid: record where, then Invalid Field + DNR.
 */
uint16_t nvme_invalid_field(NvmeRequest *req, uint16_t loc);

/*
 * End an ACTIVE request with @status (no AIO in flight, not parked): its
 * resources are released and its completion queued for its CQ.
 */
void nvme_req_complete(NvmeRequest *req, uint16_t status);
/* ACTIVE without AIO: wait for @why; unpark before it goes on */
void nvme_req_park(NvmeRequest *req, NvmeReqPark why);
void nvme_req_unpark(NvmeRequest *req);
/* End a parked request with @status (teardown, Abort) */
void nvme_req_end_parked(NvmeRequest *req, uint16_t status);

/*
 * Start the request's AIO: nvme_aio_read() and friends fill req->aio and
 * call nvme_aio_submit(). They return NVME_NO_COMPLETE when the AIO runs
 * (@done continues the command), or the status to end the request with
 * when a teardown forbids new AIO. Every AIO goes through here.
 */
uint16_t nvme_aio_submit(NvmeRequest *req);

static inline uint16_t nvme_aio_start(NvmeRequest *req, NvmeAioKind kind,
                                      NvmeNamespace *ns, int64_t offset,
                                      int64_t bytes, QEMUIOVector *qiov,
                                      BdrvRequestFlags flags, NvmeAioDone done)
{
    req->aio = (NvmeAio) {
        .kind = kind, .ns = ns, .offset = offset, .bytes = bytes,
        .qiov = qiov, .flags = flags, .done = done,
    };
    return nvme_aio_submit(req);
}

/* Inline: the I/O path's */
static inline uint16_t nvme_aio_read(NvmeRequest *req, NvmeNamespace *ns,
                                     int64_t offset, QEMUIOVector *qiov,
                                     NvmeAioDone done)
{
    return nvme_aio_start(req, NVME_AIO_READ, ns, offset, qiov->size, qiov,
                          0, done);
}

static inline uint16_t nvme_aio_write(NvmeRequest *req, NvmeNamespace *ns,
                                      int64_t offset, QEMUIOVector *qiov,
                                      BdrvRequestFlags flags, NvmeAioDone done)
{
    return nvme_aio_start(req, NVME_AIO_WRITE, ns, offset, qiov->size, qiov,
                          flags, done);
}

uint16_t nvme_aio_zeroes(NvmeRequest *req, NvmeNamespace *ns, int64_t offset,
                         int64_t bytes, BdrvRequestFlags flags,
                         NvmeAioDone done);
uint16_t nvme_aio_flush(NvmeRequest *req, NvmeNamespace *ns,
                        NvmeAioDone done);

/*
 * Borrow @len bytes of controller memory for @req (req->bounce), within a
 * controller-wide budget. When the budget is spent the request parks and
 * @resume runs once memory is free; returns false then. Returned with
 * the request's other resources when it completes.
 */
bool nvme_bounce_get(NvmeRequest *req, size_t len, NvmeReqResume resume);

/* ---- nvme-dma.c: guest memory, PRPs and SGLs ---- */

/*
 * Is [addr, addr+len) guest RAM the controller may access directly, and
 * writable if @to_guest? (never MMIO, ROM or unassigned space)
 */
bool nvme_addr_is_ram(NvmeCtrl *ctrl, hwaddr addr, hwaddr len, bool to_guest);
/* Map @ring (addr, len, to_guest set) again, as the memory map is now */
void nvme_ring_map(NvmeCtrl *ctrl, NvmeRing *ring);
void nvme_ring_unmap(NvmeRing *ring);
/* The memory map changed: requests keep the RAM window they use */
void nvme_window_drop(NvmeCtrl *ctrl);
/* Access @len bytes at offset @off of a ring; false if not guest RAM */
bool nvme_ring_read(NvmeCtrl *ctrl, NvmeRing *ring, hwaddr off, void *buf,
                    hwaddr len);
bool nvme_ring_write(NvmeCtrl *ctrl, NvmeRing *ring, hwaddr off,
                     const void *buf, hwaddr len);
/*
 * nvme_ring_write() in two halves: the write, then marking what was
 * written dirty (migration, TCG code), once for a run of writes
 */
bool nvme_ring_put(NvmeCtrl *ctrl, NvmeRing *ring, hwaddr off,
                   const void *buf, hwaddr len);
void nvme_ring_dirty(NvmeRing *ring, hwaddr off, hwaddr len);
/* DMA that refuses anything but guest RAM; false on failure */
bool nvme_dma_read(NvmeCtrl *ctrl, hwaddr addr, void *buf, hwaddr len);
bool nvme_dma_write(NvmeCtrl *ctrl, hwaddr addr, const void *buf, hwaddr len);
/*
 * Map the command's PRPs or SGLs for @len bytes into req->iov; @to_guest
 * when the controller writes guest memory. Unmapped when the request ends.
 */
uint16_t nvme_map_data(NvmeCtrl *ctrl, NvmeRequest *req, size_t len,
                       bool to_guest);
void nvme_unmap_data(NvmeCtrl *ctrl, NvmeRequest *req);
/* Copy a buffer to the host's data pointer (controller to host), or back. */
uint16_t nvme_copy_to_host(NvmeCtrl *ctrl, NvmeRequest *req,
                           const void *buf, size_t len);
uint16_t nvme_copy_from_host(NvmeCtrl *ctrl, NvmeRequest *req,
                             void *buf, size_t len);


/* Log a guest mistake the spec leaves undefined. */
void nvme_guest_error(NvmeCtrl *ctrl, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

bool nvme_sqid_valid(NvmeCtrl *ctrl, uint16_t sqid);
bool nvme_cqid_valid(NvmeCtrl *ctrl, uint16_t cqid);
void nvme_sq_create(NvmeCtrl *ctrl, uint16_t sqid, uint16_t cqid,
                    uint64_t dma_addr, uint32_t size, uint8_t prio);
void nvme_cq_create(NvmeCtrl *ctrl, uint16_t cqid, uint64_t dma_addr,
                    uint32_t size, uint16_t vector, bool irq_enabled);
void nvme_cq_free(NvmeCtrl *ctrl, NvmeCQueue *cq);
/* Delete I/O SQ: NVME_OK, or NVME_NO_COMPLETE until its AIO is over */
uint16_t nvme_sq_delete(NvmeCtrl *ctrl, NvmeSQueue *sq, NvmeRequest *req);
/* Doorbell Buffer Config reached the queue (base 5.8) */
void nvme_sq_init_shadow(NvmeCtrl *ctrl, NvmeSQueue *sq);
void nvme_cq_init_shadow(NvmeCtrl *ctrl, NvmeCQueue *cq);

/* ---- nvme-queue.c: admin commands that create and delete queues ---- */

uint16_t nvme_admin_create_sq(NvmeCtrl *ctrl, NvmeRequest *req);
uint16_t nvme_admin_delete_sq(NvmeCtrl *ctrl, NvmeRequest *req);
uint16_t nvme_admin_create_cq(NvmeCtrl *ctrl, NvmeRequest *req);
uint16_t nvme_admin_delete_cq(NvmeCtrl *ctrl, NvmeRequest *req);
uint16_t nvme_admin_dbbuf_config(NvmeCtrl *ctrl, NvmeRequest *req);

/* An active namespace of this controller, or NULL. */
static inline NvmeNamespace *nvme_ctrl_ns(NvmeCtrl *ctrl, uint32_t nsid)
{
    if (nsid == 0 || nsid > NVME_MAX_NAMESPACES) {
        return NULL;
    }
    return ctrl->namespaces[nsid];
}

void nvme_ctrl_attach_ns(NvmeCtrl *ctrl, NvmeNamespace *ns);
/*
 * @ns is being unplugged: end the requests that wait on it, then wait for
 * every controller's AIO on it. Called with @ns already detached.
 */
void nvme_ns_quiesce(NvmeSubsystem *subsys, NvmeNamespace *ns);
/*
 * @ns was deleted (Namespace Management), already detached: end the requests
 * that wait on it and, without waiting, run @gone once no AIO of any
 * controller is in flight on it (at once if none is). No new AIO starts.
 */
void nvme_ns_retire(NvmeSubsystem *subsys, NvmeNamespace *ns, QEMUBH *gone);
/*
 * Run a request whose injected delay is over: the gates of its command
 * again, then its handler (nvme-fault.c)
 */
void nvme_req_run_delayed(NvmeCtrl *ctrl, NvmeRequest *req);
/*
 * May commands of @sq be fetched, or start? Not while it or the controller
 * is torn down, nor while the controller is failed (CFS) or stalled.
 */
bool nvme_sq_fetching(NvmeCtrl *ctrl, NvmeSQueue *sq);
/* Look at every SQ, and at delayed commands, again (a stall or CFS ended) */
void nvme_ctrl_kick(NvmeCtrl *ctrl);
/* Call @fn for each request of @ctrl parked for one of @kinds (BIT(why)) */
void nvme_ctrl_foreach_parked(NvmeCtrl *ctrl, unsigned kinds,
                              void (*fn)(NvmeRequest *req, void *opaque),
                              void *opaque);
void nvme_ctrl_detach_ns(NvmeCtrl *ctrl, NvmeNamespace *ns);

/* ---- nvme-admin.c: identify data, logs, features, events ---- */

/* Identify Controller, features */
void nvme_admin_init_ctrl(NvmeCtrl *ctrl);
/* drive='s namespace came after: the write cache's default is its drive's */
void nvme_admin_drive_added(NvmeCtrl *ctrl);
/* controller reset: events */
void nvme_admin_reset(NvmeCtrl *ctrl);
uint16_t nvme_admin_abort(NvmeCtrl *ctrl, NvmeRequest *req);
/* Take the outstanding AER @req off the controller's list */
void nvme_aer_unlist(NvmeCtrl *ctrl, NvmeRequest *req);
/*
 * Queue an event; it is reported when an AER is outstanding and its log
 * page is not masked (base 5.2). Notices respect Async Event Configuration.
 */
void nvme_enqueue_event(NvmeCtrl *ctrl, uint8_t type, uint8_t info,
                        uint8_t lid);
/* Record a failed command in the Error Information log. */
void nvme_error_log_add(NvmeCtrl *ctrl, NvmeRequest *req);
/* A namespace was attached, detached or changed: Changed NS list + notice. */
void nvme_ns_changed(NvmeCtrl *ctrl, uint32_t nsid);
void nvme_smart_check_temperature(NvmeCtrl *ctrl);
/* Is a data transfer of @len bytes within MDTS (base 5.17.2.2)? */
static inline bool nvme_len_within_mdts(NvmeCtrl *ctrl, size_t len)
{
    return (uint64_t)len <= ctrl->mdts_bytes;
}

/* ---- nvme-features.c: Set/Get Features ---- */

uint16_t nvme_admin_set_features(NvmeCtrl *ctrl, NvmeRequest *req);
uint16_t nvme_admin_get_features(NvmeCtrl *ctrl, NvmeRequest *req);
void nvme_features_defaults(NvmeCtrl *ctrl, NvmeFeatures *feat);
/* Switch the write cache of every attached namespace's backend */
void nvme_apply_vwc(NvmeCtrl *ctrl, bool enable);

/* ---- nvme-subsys.c: admin commands that act on the subsystem ---- */

uint16_t nvme_identify_allocated_ns_list(NvmeCtrl *ctrl, NvmeRequest *req);
uint16_t nvme_identify_allocated_ns(NvmeCtrl *ctrl, NvmeRequest *req);
uint16_t nvme_identify_ns_ctrl_list(NvmeCtrl *ctrl, NvmeRequest *req);
uint16_t nvme_identify_subsys_ctrl_list(NvmeCtrl *ctrl, NvmeRequest *req);
uint16_t nvme_admin_ns_attachment(NvmeCtrl *ctrl, NvmeRequest *req);

/* ---- nvme-io.c: NVM command set ---- */

/* Map a block backend error (negative errno) to an NVMe status. */
uint16_t nvme_status_from_errno(int ret, bool is_write);

#endif /* HW_BLOCK_NVME_H */
