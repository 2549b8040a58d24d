/*
 * NVMe namespace device (nvme-ns) and the bus namespaces plug into.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_BLOCK_NVME_NS_H
#define HW_BLOCK_NVME_NS_H

#include "qemu/uuid.h"
#include "hw/qdev-core.h"
#include "hw/block/block.h"
#include "block/nvme.h"

#define TYPE_NVME_BUS "nvme-bus"
OBJECT_DECLARE_SIMPLE_TYPE(NvmeBus, NVME_BUS)

struct NvmeBus {
    BusState parent_bus;
};

#define TYPE_NVME_NS "nvme-ns"
OBJECT_DECLARE_SIMPLE_TYPE(NvmeNamespace, NVME_NS)

typedef struct NvmeCtrl NvmeCtrl;
typedef struct NvmeSubsystem NvmeSubsystem;
typedef struct NvmeRequest NvmeRequest;

#define NVME_MAX_NAMESPACES     1024    /* Identify Controller NN */

/* base 5.27.1.25: a host's identity, 64 bits in id[0..7] or 128 bits */
typedef struct NvmeHostId {
    uint8_t     id[16];
} NvmeHostId;

/* A registrant of a namespace's reservation: a host and its key */
typedef struct NvmeResvReg {
    NvmeHostId  host;
    uint64_t    key;
} NvmeResvReg;

/*
 * base 8.19: the reservation of a namespace, one for every controller of
 * the subsystem. Registrants are hosts (every controller with the same Host
 * Identifier acts for the same host). For the all-registrants types every
 * registrant holds the reservation and @holder is unused.
 */
typedef struct NvmeResv {
    NvmeResvReg *regs;
    unsigned    nr_regs;
    uint8_t     rtype;                  /* NVME_RESV_*, NONE: no reservation */
    NvmeHostId  holder;
    uint32_t    gen;                    /* Report's generation counter */
    uint8_t     notice_mask;            /* feature 82h, NVME_RESV_MASK_ALL */
    bool        ptpl;                   /* Persist Through Power Loss */
} NvmeResv;

/* at most this many hosts register with one namespace */
#define NVME_RESV_MAX_REGS      64
/* LBA formats offered (nvm 4.1.5.1): index 0 is 512 bytes, index 1 is 4 KiB. */
#define NVME_NS_NUM_LBAF        2

struct NvmeNamespace {
    DeviceState parent_obj;

    /* properties */
    BlockConf   blkconf;
    uint32_t    nsid;
    QemuUUID    uuid;
    uint64_t    eui64;
    char        *nguid_str;
    NvmeSubsystem *subsys;              /* shared namespace of this subsystem */
    bool        detached;
    uint32_t    ana_grpid;

    /* state */
    NvmeCtrl    *owner;                 /* private namespace: its controller */
    NvmeSubsystem *registered;          /* the subsystem it is registered in */
    bool        borrowed_blk;           /* drive= of the controller: not ours */
    uint8_t     nguid[16];
    unsigned    lbaf;                   /* current LBA format index */
    uint32_t    lbasz;                  /* bytes per logical block */
    uint8_t     lbads;                  /* log2(lbasz) */
    uint64_t    nlbas;                  /* namespace size in logical blocks */
    bool        read_only;
    NvmeRequest *format_req;            /* the Format NVM formatting it */
    bool        removing;               /* unplugged: no new AIO */
    unsigned    nr_aio;                 /* AIO in flight, any controller */
    /*
     * Blocks made uncorrectable by Write Uncorrectable: a bitmap per chunk
     * of NVME_NS_UNCORR_CHUNK blocks that holds at least one, keyed by the
     * chunk's index; NULL when no block is marked. Not persistent: a
     * restart forgets them.
     */
    GHashTable  *uncorr;
    NvmeResv    resv;                   /* nvme-resv.c */
    /*
     * A namespace of the subsystem's capacity pool (nvme-pool.c): its data
     * are @pool_size bytes at @pool_offset of the pool's drive, and entry
     * @pool_slot of the pool's table describes it.
     */
    NvmeSubsystem *pool_subsys;
    BlockBackend *pool_blk;
    int         pool_slot;
    uint64_t    pool_offset;
    uint64_t    pool_size;
    QEMUBH      *gone_bh;               /* deleted: runs once idle */
};

/*
 * Copy's limits: blocks per source range (MSSRL), blocks per command (MCL),
 * source ranges per command (MSRC, here as a count)
 */
#define NVME_COPY_MSSRL         4096
#define NVME_COPY_MCL           16384
#define NVME_COPY_MSRC          128

/* Write Uncorrectable's memory: NVME_NS_UNCORR_MAX chunks of 512 bytes */
#define NVME_NS_UNCORR_CHUNK    4096
#define NVME_NS_UNCORR_MAX      2048

static inline bool nvme_ns_formatting(NvmeNamespace *ns)
{
    return ns->format_req != NULL;
}

/* Check properties, open the backend, compute geometry. */
bool nvme_ns_setup(NvmeNamespace *ns, Error **errp);
/* Fill Identify Namespace (CNS 00h) as seen by a controller. */
void nvme_ns_identify(NvmeNamespace *ns, NvmeIdNs *id);
void nvme_ns_identify_indep(NvmeNamespace *ns, NvmeIdNsIndep *id);
/* Namespace Identification Descriptor list (CNS 03h), 4 KiB buffer. */
void nvme_ns_id_descriptors(NvmeNamespace *ns, uint8_t *buf);
/* Switch to LBA format @lbaf; false if the backend size does not allow it. */
bool nvme_ns_set_format(NvmeNamespace *ns, unsigned lbaf);
bool nvme_ns_lbaf_valid(NvmeNamespace *ns, unsigned lbaf);

/*
 * Write Uncorrectable (NVM 3.3.8): mark [slba, slba + nlb); false, with
 * nothing marked, when that would take more than NVME_NS_UNCORR_MAX chunks.
 * Clearing never allocates. The range must be inside the namespace.
 */
bool nvme_ns_uncorr_mark(NvmeNamespace *ns, uint64_t slba, uint64_t nlb);
void nvme_ns_uncorr_clear_range(NvmeNamespace *ns, uint64_t slba,
                                uint64_t nlb);
void nvme_ns_uncorr_clear_all(NvmeNamespace *ns);
bool nvme_ns_uncorr_find_range(NvmeNamespace *ns, uint64_t slba,
                               uint64_t nlb, uint64_t *lba);

/*
 * Every read and write asks: ns->uncorr is NULL unless a block is marked,
 * so the usual answer costs one load
 */
static inline void nvme_ns_uncorr_clear(NvmeNamespace *ns, uint64_t slba,
                                        uint64_t nlb)
{
    if (unlikely(ns->uncorr)) {
        nvme_ns_uncorr_clear_range(ns, slba, nlb);
    }
}

/* The first marked block of the range, or false if none is */
static inline bool nvme_ns_uncorr_find(NvmeNamespace *ns, uint64_t slba,
                                       uint64_t nlb, uint64_t *lba)
{
    return unlikely(ns->uncorr) &&
           nvme_ns_uncorr_find_range(ns, slba, nlb, lba);
}

static inline BlockBackend *nvme_ns_blk(NvmeNamespace *ns)
{
    return ns->pool_blk ?: ns->blkconf.blk;
}

/* log2 of the data size of LBA format @lbaf: 512 bytes, or 4 KiB */
static inline unsigned nvme_lbaf_lbads(unsigned lbaf)
{
    return lbaf ? 12 : 9;
}

static inline uint64_t nvme_ns_bytes(NvmeNamespace *ns, uint64_t nlb)
{
    return nlb << ns->lbads;
}

/* Is [slba, slba + nlb) inside the namespace? (overflow safe) */
static inline bool nvme_ns_range_ok(NvmeNamespace *ns, uint64_t slba,
                                    uint64_t nlb)
{
    return slba < ns->nlbas && nlb <= ns->nlbas - slba;
}

#endif /* HW_BLOCK_NVME_NS_H */
