/*
 * The capacity pool of an NVM subsystem and Namespace Management (Base 2.0,
 * 5.20): with "-device nvme-subsys,pool=<drive>", hosts create namespaces
 * out of one drive and delete them, as on a storage array.
 *
 * The pool drive starts with a table of its namespaces, written back after
 * each change, so that namespaces, their attachments and their data outlive
 * QEMU:
 *
 *   0       header: "QEMUNVMP", version 1, 256 entries, data at 1 MiB
 *   4 KiB   256 entries of 64 bytes (NvmePoolEntry, little-endian)
 *   512 KiB 256 areas of 2 KiB: each namespace's reservation, when its
 *           host asked for Persist Through Power Loss (NvmePoolResv)
 *   1 MiB   namespace data, each namespace one range aligned to 1 MiB
 *
 * A pool namespace is an nvme-ns device whose I/O goes to its range of the
 * pool drive (ns->pool_blk, ns->pool_offset); QEMU creates them itself. A
 * deleted namespace leaves the subsystem at once; its range is reused only
 * once its last request has completed (nvme_ns_retire).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/error-report.h"
#include "qemu/memalign.h"
#include "qemu/cutils.h"
#include "qapi/error.h"
#include "hw/qdev-core.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "nvme-pool.h"
#include "trace.h"

#define NVME_POOL_MAGIC         "QEMUNVMP"
#define NVME_POOL_VERSION       1
#define NVME_POOL_ENTRIES       256
#define NVME_POOL_TABLE_OFFSET  (4 * KiB)
#define NVME_POOL_RESV_OFFSET   (512 * KiB)
#define NVME_POOL_RESV_SIZE     (2 * KiB)
#define NVME_POOL_DATA_OFFSET   (1 * MiB)
#define NVME_POOL_ALIGN         (1 * MiB)

typedef struct QEMU_PACKED NvmePoolHeader {
    char     magic[8];
    uint32_t version;
    uint32_t entries;
    uint64_t data_offset;
} NvmePoolHeader;

typedef struct QEMU_PACKED NvmePoolEntry {
    uint32_t nsid;                      /* 0: a free entry */
    uint8_t  lbaf;                      /* the current LBA format */
    uint8_t  nmic;                      /* bit 0: may be shared */
    uint8_t  rsvd6[2];
    uint64_t offset;                    /* bytes into the pool drive */
    uint64_t size;                      /* bytes: NSZE at creation */
    uint32_t anagrpid;
    uint32_t rsvd28;
    uint64_t attached;                  /* bit N: attached to CNTLID N + 1 */
    uint8_t  uuid[16];
    uint8_t  rsvd56[8];
} NvmePoolEntry;

/* A reservation kept through power loss: registrants, holder, type */
typedef struct QEMU_PACKED NvmePoolResv {
    uint8_t  ptpl;                      /* 1: the rest is valid */
    uint8_t  rtype;
    uint8_t  nr_regs;
    uint8_t  rsvd3;
    uint32_t gen;
    uint8_t  holder[16];
    uint8_t  rsvd24[8];
    struct QEMU_PACKED {
        uint8_t  host[16];
        uint64_t key;
    } regs[NVME_RESV_MAX_REGS];
} NvmePoolResv;

QEMU_BUILD_BUG_ON(sizeof(NvmePoolEntry) != 64);
QEMU_BUILD_BUG_ON(NVME_SUBSYS_MAX_CTRLS > 64);      /* the attached bitmap */
QEMU_BUILD_BUG_ON(sizeof(NvmePoolResv) > NVME_POOL_RESV_SIZE);
QEMU_BUILD_BUG_ON(NVME_POOL_TABLE_OFFSET + NVME_POOL_ENTRIES *
                  sizeof(NvmePoolEntry) > NVME_POOL_RESV_OFFSET);

#define NVME_POOL_META_SIZE \
    (NVME_POOL_RESV_OFFSET + NVME_POOL_ENTRIES * NVME_POOL_RESV_SIZE)
QEMU_BUILD_BUG_ON(NVME_POOL_META_SIZE > NVME_POOL_DATA_OFFSET);

typedef enum NvmePoolState {
    NVME_POOL_FREE,
    NVME_POOL_USED,
    NVME_POOL_DYING,        /* deleted; its range busy until requests end */
} NvmePoolState;

struct NvmePool {
    NvmeSubsystem *subsys;
    NvmePoolEntry entry[NVME_POOL_ENTRIES];     /* host byte order */
    NvmePoolState state[NVME_POOL_ENTRIES];
    NvmeNamespace *ns[NVME_POOL_ENTRIES];       /* USED and DYING ones */
    uint64_t    end;                    /* usable bytes end here */
    /* the table written back: one write at a time, again if it changed */
    uint8_t     *buf;
    QEMUIOVector qiov;
    bool        writing;
    bool        dirty;
    bool        warned;
};

static uint64_t nvme_pool_extent(uint64_t size)
{
    return ROUND_UP(size, NVME_POOL_ALIGN);
}

/* ---- the table on the drive ---------------------------------------------- */

/* The reservation of @ns, if its host asked for it to persist */
static void nvme_pool_serialize_resv(NvmeNamespace *ns, NvmePoolResv *out)
{
    const NvmeResv *resv = &ns->resv;

    if (!resv->ptpl) {
        return;
    }
    out->ptpl = 1;
    out->rtype = resv->rtype;
    out->nr_regs = resv->nr_regs;
    out->gen = cpu_to_le32(resv->gen);
    memcpy(out->holder, resv->holder.id, sizeof(out->holder));
    for (unsigned i = 0; i < resv->nr_regs; i++) {
        memcpy(out->regs[i].host, resv->regs[i].host.id,
               sizeof(out->regs[i].host));
        out->regs[i].key = cpu_to_le64(resv->regs[i].key);
    }
}

/* Back in a namespace made at start; a damaged one is dropped, not used */
static void nvme_pool_load_resv(NvmePool *pool, unsigned slot)
{
    const NvmePoolResv *in = (const NvmePoolResv *)
        (pool->buf + NVME_POOL_RESV_OFFSET + slot * NVME_POOL_RESV_SIZE);
    NvmeResv *resv = &pool->ns[slot]->resv;

    if (in->ptpl != 1) {
        return;
    }
    bool holder_found = false, damaged = in->nr_regs > NVME_RESV_MAX_REGS ||
                        in->rtype > NVME_RESV_EXCL_ACCESS_ALL;

    /* each host once (the Report's size relies on it), a registered holder */
    for (unsigned i = 0; !damaged && i < in->nr_regs; i++) {
        holder_found |= !memcmp(in->regs[i].host, in->holder,
                                sizeof(in->holder));
        for (unsigned j = 0; j < i; j++) {
            damaged |= !memcmp(in->regs[i].host, in->regs[j].host,
                               sizeof(in->regs[i].host));
        }
    }
    if (damaged || (in->rtype && !holder_found)) {
        warn_report("nvme-subsys: pool '%s', NSID %u: the kept reservation "
                    "is damaged and dropped", blk_name(pool->subsys->pool_blk),
                    pool->entry[slot].nsid);
        return;
    }
    resv->ptpl = true;
    resv->rtype = in->rtype;
    resv->gen = le32_to_cpu(in->gen);
    memcpy(resv->holder.id, in->holder, sizeof(resv->holder.id));
    resv->nr_regs = in->nr_regs;
    resv->regs = g_new0(NvmeResvReg, MAX(in->nr_regs, 1));
    for (unsigned i = 0; i < in->nr_regs; i++) {
        memcpy(resv->regs[i].host.id, in->regs[i].host,
               sizeof(resv->regs[i].host.id));
        resv->regs[i].key = le64_to_cpu(in->regs[i].key);
    }
}

static void nvme_pool_serialize(NvmePool *pool, uint8_t *buf)
{
    NvmePoolHeader hdr = {
        .version = cpu_to_le32(NVME_POOL_VERSION),
        .entries = cpu_to_le32(NVME_POOL_ENTRIES),
        .data_offset = cpu_to_le64(NVME_POOL_DATA_OFFSET),
    };
    NvmePoolEntry *out = (NvmePoolEntry *)(buf + NVME_POOL_TABLE_OFFSET);

    memset(buf, 0, NVME_POOL_META_SIZE);
    memcpy(hdr.magic, NVME_POOL_MAGIC, sizeof(hdr.magic));
    memcpy(buf, &hdr, sizeof(hdr));
    for (unsigned i = 0; i < NVME_POOL_ENTRIES; i++) {
        const NvmePoolEntry *e = &pool->entry[i];

        if (pool->state[i] != NVME_POOL_USED) {
            continue;               /* a dying namespace is gone for good */
        }
        out[i] = *e;
        out[i].nsid = cpu_to_le32(e->nsid);
        out[i].offset = cpu_to_le64(e->offset);
        out[i].size = cpu_to_le64(e->size);
        out[i].anagrpid = cpu_to_le32(e->anagrpid);
        out[i].attached = cpu_to_le64(e->attached);
        if (pool->ns[i]) {
            nvme_pool_serialize_resv(pool->ns[i], (NvmePoolResv *)
                (buf + NVME_POOL_RESV_OFFSET + i * NVME_POOL_RESV_SIZE));
        }
    }
}

static void nvme_pool_write(NvmePool *pool);

static void nvme_pool_written(void *opaque, int ret)
{
    NvmePool *pool = opaque;

    pool->writing = false;
    if (ret < 0 && !pool->warned) {
        pool->warned = true;
        error_report("nvme-subsys: writing the namespace table of pool '%s' "
                     "failed: %s", blk_name(pool->subsys->pool_blk),
                     strerror(-ret));
    }
    trace_pci_nvme_pool_written(pool->subsys->subnqn, ret);
    if (pool->dirty) {
        nvme_pool_write(pool);
    }
}

/*
 * Write the table back, in the background: a command that changes it
 * completes without waiting (a QEMU that exits waits for the write).
 */
static void nvme_pool_write(NvmePool *pool)
{
    if (pool->writing) {
        pool->dirty = true;
        return;
    }
    pool->dirty = false;
    pool->writing = true;
    nvme_pool_serialize(pool, pool->buf);
    blk_aio_pwritev(pool->subsys->pool_blk, 0, &pool->qiov, BDRV_REQ_FUA,
                    nvme_pool_written, pool);
}

/* An entry read from the drive, checked; the entries before it are valid */
static bool nvme_pool_load_entry(NvmePool *pool, unsigned i,
                                 const NvmePoolEntry *raw, Error **errp)
{
    NvmePoolEntry *e = &pool->entry[i];
    const char *why = NULL;

    *e = *raw;
    e->nsid = le32_to_cpu(raw->nsid);
    if (!e->nsid) {
        memset(e, 0, sizeof(*e));
        return true;
    }
    e->offset = le64_to_cpu(raw->offset);
    e->size = le64_to_cpu(raw->size);
    e->anagrpid = le32_to_cpu(raw->anagrpid);
    e->attached = le64_to_cpu(raw->attached);
    if (e->nsid > NVME_MAX_NAMESPACES) {
        why = "its NSID is out of range";
    } else if (e->lbaf >= NVME_NS_NUM_LBAF || e->nmic > 1) {
        why = "its LBA format or NMIC is invalid";
    } else if (e->size < (1ull << nvme_lbaf_lbads(e->lbaf))) {
        why = "it is smaller than one block";
    } else if (e->offset < NVME_POOL_DATA_OFFSET ||
               e->offset % NVME_POOL_ALIGN || !e->size ||
               e->size > pool->end ||
               e->offset > pool->end - nvme_pool_extent(e->size)) {
        why = "its range is outside the drive";
    } else if (!pool->subsys->ana && e->anagrpid) {
        why = "it is in an ANA group, and the subsystem has no ANA "
              "(ana=true)";
    }
    for (unsigned j = 0; !why && j < i; j++) {
        const NvmePoolEntry *o = &pool->entry[j];

        if (!o->nsid) {
            continue;
        }
        if (o->nsid == e->nsid) {
            why = "its NSID is used twice";
        } else if (e->offset < o->offset + nvme_pool_extent(o->size) &&
                   o->offset < e->offset + nvme_pool_extent(e->size)) {
            why = "its range overlaps another namespace's";
        }
    }
    if (why) {
        error_setg(errp, "nvme-subsys: pool '%s': the table's entry %u (NSID "
                   "%u) is invalid: %s", blk_name(pool->subsys->pool_blk), i,
                   e->nsid, why);
        return false;
    }
    pool->state[i] = NVME_POOL_USED;
    return true;
}

/* Read the table; a drive of zeroes gets an empty one */
static bool nvme_pool_load(NvmePool *pool, Error **errp)
{
    BlockBackend *blk = pool->subsys->pool_blk;
    NvmePoolHeader hdr;
    const NvmePoolEntry *raw;
    int ret;

    ret = blk_pread(blk, 0, NVME_POOL_META_SIZE, pool->buf, 0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "nvme-subsys: cannot read pool '%s'",
                         blk_name(blk));
        return false;
    }
    memcpy(&hdr, pool->buf, sizeof(hdr));
    if (memcmp(hdr.magic, NVME_POOL_MAGIC, sizeof(hdr.magic)) != 0) {
        if (!buffer_is_zero(pool->buf, NVME_POOL_META_SIZE)) {
            error_setg(errp, "nvme-subsys: drive '%s' is not an NVMe pool (no "
                       "\"%s\" header) and not empty: give a zeroed drive "
                       "to start a pool", blk_name(blk), NVME_POOL_MAGIC);
            return false;
        }
        nvme_pool_serialize(pool, pool->buf);
        ret = blk_pwrite(blk, 0, NVME_POOL_META_SIZE, pool->buf, BDRV_REQ_FUA);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "nvme-subsys: cannot write the "
                             "namespace table of pool '%s'", blk_name(blk));
            return false;
        }
        return true;
    }
    if (le32_to_cpu(hdr.version) != NVME_POOL_VERSION ||
        le32_to_cpu(hdr.entries) != NVME_POOL_ENTRIES ||
        le64_to_cpu(hdr.data_offset) != NVME_POOL_DATA_OFFSET) {
        error_setg(errp, "nvme-subsys: pool '%s' has a table of another "
                   "version (%u) or layout", blk_name(blk),
                   le32_to_cpu(hdr.version));
        return false;
    }
    raw = (const NvmePoolEntry *)(pool->buf + NVME_POOL_TABLE_OFFSET);
    for (unsigned i = 0; i < NVME_POOL_ENTRIES; i++) {
        if (!nvme_pool_load_entry(pool, i, &raw[i], errp)) {
            return false;
        }
    }
    return true;
}

/* ---- pool namespaces ----------------------------------------------------- */

/* Create and realize the namespace of entry @slot, detached */
static NvmeNamespace *nvme_pool_ns_new(NvmePool *pool, unsigned slot,
                                       Error **errp)
{
    NvmeSubsystem *subsys = pool->subsys;
    const NvmePoolEntry *e = &pool->entry[slot];
    DeviceState *dev = qdev_new(TYPE_NVME_NS);
    NvmeNamespace *ns = NVME_NS(dev);

    ns->nsid = e->nsid;
    ns->detached = true;            /* attached per the table as ctrls join */
    ns->ana_grpid = e->anagrpid;
    ns->lbaf = e->lbaf;
    memcpy(ns->uuid.data, e->uuid, sizeof(ns->uuid.data));
    ns->pool_subsys = subsys;
    ns->pool_blk = subsys->pool_blk;
    ns->pool_slot = slot;
    ns->pool_offset = e->offset;
    ns->pool_size = e->size;
    if (e->nmic && !object_property_set_link(OBJECT(dev), "subsys",
                                             OBJECT(subsys), errp)) {
        object_unref(OBJECT(dev));
        return NULL;
    }
    if (!qdev_realize_and_unref(dev, BUS(&subsys->bus), errp)) {
        return NULL;
    }
    pool->ns[slot] = ns;
    return ns;
}

bool nvme_pool_init(NvmeSubsystem *subsys, Error **errp)
{
    BlockBackend *blk = subsys->pool_blk;
    g_autofree NvmePool *pool = NULL;
    NvmeNamespace *made[NVME_POOL_ENTRIES] = { NULL };
    int64_t len;

    if (!blk) {
        return true;
    }
    if (!blk_is_inserted(blk) || !blk_supports_write_perm(blk)) {
        error_setg(errp, "nvme-subsys: pool drive '%s' must be writable",
                   blk_name(blk));
        return false;
    }
    if (blk_set_perm(blk, BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE,
                     BLK_PERM_CONSISTENT_READ | BLK_PERM_WRITE_UNCHANGED,
                     errp) < 0) {
        return false;
    }
    len = blk_getlength(blk);
    if (len < NVME_POOL_DATA_OFFSET + NVME_POOL_ALIGN) {
        error_setg(errp, "nvme-subsys: pool drive '%s' is too small: a pool "
                   "needs at least %d MiB", blk_name(blk),
                   (int)((NVME_POOL_DATA_OFFSET + NVME_POOL_ALIGN) / MiB));
        return false;
    }
    pool = g_new0(NvmePool, 1);
    pool->subsys = subsys;
    pool->end = QEMU_ALIGN_DOWN(len, NVME_POOL_ALIGN);
    pool->buf = qemu_blockalign(blk_bs(blk), NVME_POOL_META_SIZE);
    qemu_iovec_init_buf(&pool->qiov, pool->buf, NVME_POOL_META_SIZE);
    if (!nvme_pool_load(pool, errp)) {
        qemu_vfree(pool->buf);
        return false;
    }
    subsys->pool = g_steal_pointer(&pool);
    for (unsigned i = 0; i < NVME_POOL_ENTRIES; i++) {
        if (subsys->pool->state[i] != NVME_POOL_USED) {
            continue;
        }
        made[i] = nvme_pool_ns_new(subsys->pool, i, errp);
        if (made[i]) {
            nvme_pool_load_resv(subsys->pool, i);
        } else {
            error_prepend(errp, "nvme-subsys: pool '%s', NSID %u: ",
                          blk_name(blk), subsys->pool->entry[i].nsid);
            /* nothing stays of a subsystem that fails */
            while (i--) {
                if (made[i]) {
                    object_unparent(OBJECT(made[i]));
                }
            }
            nvme_pool_free(subsys);
            return false;
        }
    }
    return true;
}

static void nvme_pool_ns_gone(void *opaque);

void nvme_pool_free(NvmeSubsystem *subsys)
{
    NvmePool *pool = subsys->pool;

    if (!pool) {
        return;
    }
    /*
     * The table write, if one is in flight, needs its buffer; deleted
     * namespaces whose last AIO this completes go now, not in a BH later.
     */
    blk_drain(subsys->pool_blk);
    for (unsigned i = 0; i < NVME_POOL_ENTRIES; i++) {
        if (pool->state[i] == NVME_POOL_DYING && !pool->ns[i]->nr_aio) {
            nvme_pool_ns_gone(pool->ns[i]);
        }
    }
    qemu_vfree(pool->buf);
    g_clear_pointer(&subsys->pool, g_free);
}

void nvme_pool_capacity(NvmeSubsystem *subsys, uint64_t *total,
                        uint64_t *unallocated)
{
    NvmePool *pool = subsys->pool;

    *total = *unallocated = 0;
    if (!pool) {
        return;
    }
    *total = *unallocated = pool->end - NVME_POOL_DATA_OFFSET;
    for (unsigned i = 0; i < NVME_POOL_ENTRIES; i++) {
        if (pool->state[i] != NVME_POOL_FREE) {
            *unallocated -= nvme_pool_extent(pool->entry[i].size);
        }
    }
}

static NvmePoolEntry *nvme_pool_entry_of(NvmeNamespace *ns)
{
    NvmePool *pool = ns->pool_subsys ? ns->pool_subsys->pool : NULL;

    if (!pool || pool->state[ns->pool_slot] != NVME_POOL_USED) {
        return NULL;
    }
    return &pool->entry[ns->pool_slot];
}

bool nvme_pool_attached(NvmeNamespace *ns, uint16_t cntlid)
{
    NvmePoolEntry *e = nvme_pool_entry_of(ns);

    return e && cntlid && (e->attached & BIT_ULL(cntlid - 1));
}

void nvme_pool_attachment_changed(NvmeNamespace *ns, uint16_t cntlid,
                                  bool attached)
{
    NvmePoolEntry *e = nvme_pool_entry_of(ns);
    uint64_t bit = BIT_ULL(cntlid - 1);

    if (!e || !!(e->attached & bit) == attached) {
        return;
    }
    e->attached = attached ? e->attached | bit : e->attached & ~bit;
    nvme_pool_write(ns->pool_subsys->pool);
}

void nvme_pool_resv_changed(NvmeNamespace *ns)
{
    if (nvme_pool_entry_of(ns)) {
        nvme_pool_write(ns->pool_subsys->pool);
    }
}

void nvme_pool_format_changed(NvmeNamespace *ns)
{
    NvmePoolEntry *e = nvme_pool_entry_of(ns);

    if (e && e->lbaf != ns->lbaf) {
        e->lbaf = ns->lbaf;
        nvme_pool_write(ns->pool_subsys->pool);
    }
}

/* ---- Create -------------------------------------------------------------- */

/* The lowest free range of @bytes (aligned), or 0 if none is */
static uint64_t nvme_pool_find_range(NvmePool *pool, uint64_t bytes)
{
    uint64_t at = NVME_POOL_DATA_OFFSET;

    for (;;) {
        uint64_t next = 0;

        if (bytes > pool->end || at > pool->end - bytes) {
            return 0;
        }
        for (unsigned i = 0; i < NVME_POOL_ENTRIES; i++) {
            const NvmePoolEntry *e = &pool->entry[i];
            uint64_t e_end = e->offset + nvme_pool_extent(e->size);

            if (pool->state[i] != NVME_POOL_FREE &&
                at < e_end && e->offset < at + bytes) {
                next = MAX(next, e_end);  /* overlaps: try after it */
            }
        }
        if (!next) {
            return at;
        }
        at = next;
    }
}

static uint16_t nvme_pool_status(NvmeRequest *req, uint8_t sc)
{
    return nvme_adm_error(req, NVME_SCT_CMD_SPECIFIC, sc,
                          NVME_ERR_LOC(dptr, 0));
}

static void nvme_pool_delete_ns(NvmeNamespace *ns);

/*
 * The new namespace reads as zeroes (DLFEAT): its range is zeroed first, a
 * piece at a time, so that a reset or unplug waits for one piece only. A
 * namespace whose zeroing fails or is cut short is deleted again.
 */
#define NVME_POOL_ZERO_CHUNK    (1 * GiB)

static void nvme_pool_zero_cb(NvmeRequest *req, int ret);

static uint16_t nvme_pool_zero_next(NvmeRequest *req)
{
    NvmePoolZeroJob *job = &req->pool_zero;

    if (job->done == job->bytes) {
        return NVME_OK;
    }
    job->chunk = MIN(NVME_POOL_ZERO_CHUNK, job->bytes - job->done);
    return nvme_aio_zeroes(req, job->ns, job->done, job->chunk,
                           BDRV_REQ_MAY_UNMAP, nvme_pool_zero_cb);
}

/* Done or failed: a failure takes the namespace away (unless deleted) */
static uint16_t nvme_pool_zero_end(NvmeRequest *req, uint16_t status)
{
    NvmeNamespace *ns = req->pool_zero.ns;

    if (status != NVME_OK && status != NVME_NO_COMPLETE) {
        req->dw0 = 0;
        if (nvme_pool_entry_of(ns)) {
            nvme_pool_delete_ns(ns);
        }
    }
    return status;
}

static void nvme_pool_zero_cb(NvmeRequest *req, int ret)
{
    uint16_t status;

    if (ret < 0) {
        status = nvme_status_from_errno(ret, true);
    } else {
        req->pool_zero.done += req->pool_zero.chunk;
        status = nvme_pool_zero_next(req);
    }
    if (nvme_pool_zero_end(req, status) != NVME_NO_COMPLETE) {
        nvme_req_complete(req, status);
    }
}

/* Check the host's Identify Namespace fields; the LBA format index out */
static uint16_t nvme_pool_check_create(NvmeSubsystem *subsys,
                                       NvmeRequest *req, const NvmeIdNs *id,
                                       unsigned *lbaf, uint32_t *anagrpid)
{
    uint64_t nsze = le64_to_cpu(id->nsze), ncap = le64_to_cpu(id->ncap);

    *lbaf = NVME_FLBAS_INDEX(id->flbas);
    *anagrpid = le32_to_cpu(id->anagrpid);
    /* no metadata, no extended LBA formats beyond index 1 */
    if (*lbaf >= NVME_NS_NUM_LBAF || (id->flbas & ~0xf)) {
        return nvme_pool_status(req, NVME_SC_INVALID_FORMAT);
    }
    if (id->dps || (id->nmic & ~NVME_NMIC_SHARED) || !nsze || ncap > nsze) {
        return nvme_invalid_field(req, NVME_ERR_LOC(dptr, 0));
    }
    if (ncap < nsze) {
        return nvme_pool_status(req, NVME_SC_THIN_PROV_UNSUPPORTED);
    }
    if (!subsys->ana && *anagrpid) {
        return nvme_invalid_field(req, NVME_ERR_LOC(dptr, 0));
    }
    if (subsys->ana && *anagrpid > NVME_ANA_GRP_MAX) {
        return nvme_pool_status(req, NVME_SC_ANA_GROUP_ID_INVALID);
    }
    return NVME_OK;
}

static uint16_t nvme_pool_create(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeSubsystem *subsys = ctrl->subsys;
    NvmePool *pool = subsys->pool;
    g_autofree NvmeIdNs *id = g_new0(NvmeIdNs, 1);
    uint32_t csi = FIELD_EX32(le32_to_cpu(req->cmd.cdw11), NVME_NS_MGMT_DW11,
                              CSI);
    Error *err = NULL;
    NvmeNamespace *ns;
    NvmePoolEntry *e;
    uint32_t anagrpid, nsid;
    uint64_t bytes, offset;
    unsigned lbaf, slot;
    uint16_t status;

    if (csi != NVME_CSI_NVM) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw11, 24));
    }
    status = nvme_copy_from_host(ctrl, req, id, sizeof(*id));
    if (status) {
        return status;
    }
    status = nvme_pool_check_create(subsys, req, id, &lbaf, &anagrpid);
    if (status) {
        return status;
    }
    if (!pool) {
        /* no pool: TNVMCAP is 0, there is nothing to carve */
        return nvme_pool_status(req, NVME_SC_NS_INSUFFICIENT_CAP);
    }
    for (slot = 0; slot < NVME_POOL_ENTRIES; slot++) {
        if (pool->state[slot] == NVME_POOL_FREE) {
            break;
        }
    }
    nsid = nvme_subsys_free_nsid(subsys);
    if (slot == NVME_POOL_ENTRIES || !nsid) {
        return nvme_pool_status(req, NVME_SC_NS_ID_UNAVAILABLE);
    }
    if (le64_to_cpu(id->nsze) > (pool->end >> nvme_lbaf_lbads(lbaf))) {
        return nvme_pool_status(req, NVME_SC_NS_INSUFFICIENT_CAP);
    }
    bytes = le64_to_cpu(id->nsze) << nvme_lbaf_lbads(lbaf);
    offset = nvme_pool_find_range(pool, nvme_pool_extent(bytes));
    if (!offset) {
        return nvme_pool_status(req, NVME_SC_NS_INSUFFICIENT_CAP);
    }
    e = &pool->entry[slot];
    *e = (NvmePoolEntry) {
        .nsid = nsid, .lbaf = lbaf, .nmic = id->nmic & NVME_NMIC_SHARED,
        .offset = offset, .size = bytes,
        .anagrpid = subsys->ana && !anagrpid ? 1 : anagrpid,
    };
    qemu_uuid_generate((QemuUUID *)e->uuid);
    pool->state[slot] = NVME_POOL_USED;
    ns = nvme_pool_ns_new(pool, slot, &err);
    if (!ns) {
        /* cannot happen: the entry was checked as a command line would be */
        error_report_err(err);
        pool->state[slot] = NVME_POOL_FREE;
        memset(e, 0, sizeof(*e));
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_INTERNAL, true);
    }
    nvme_pool_write(pool);
    trace_pci_nvme_pool_create(nvme_cid(req), nsid, offset, bytes, lbaf);
    req->dw0 = nsid;
    req->pool_zero.ns = ns;
    req->pool_zero.done = 0;
    req->pool_zero.bytes = bytes;
    return nvme_pool_zero_end(req, nvme_pool_zero_next(req));
}

/* ---- Delete -------------------------------------------------------------- */

/* The namespace's last request is over: its range is free, the device goes */
static void nvme_pool_ns_gone(void *opaque)
{
    NvmeNamespace *ns = opaque;
    NvmePool *pool = ns->pool_subsys->pool;

    qemu_bh_delete(ns->gone_bh);
    ns->gone_bh = NULL;
    pool->state[ns->pool_slot] = NVME_POOL_FREE;
    pool->ns[ns->pool_slot] = NULL;
    memset(&pool->entry[ns->pool_slot], 0, sizeof(NvmePoolEntry));
    object_unparent(OBJECT(ns));
}

static void nvme_pool_delete_ns(NvmeNamespace *ns)
{
    NvmeSubsystem *subsys = ns->pool_subsys;

    trace_pci_nvme_pool_delete(ns->nsid, ns->pool_offset, ns->pool_size);
    subsys->pool->state[ns->pool_slot] = NVME_POOL_DYING;
    nvme_pool_write(subsys->pool);
    nvme_subsys_remove_ns(subsys, ns);       /* detached, hosts told */
    ns->registered = NULL;
    nvme_ns_retire(subsys, ns, qemu_bh_new(nvme_pool_ns_gone, ns));
}

static uint16_t nvme_pool_delete(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t nsid = le32_to_cpu(req->cmd.nsid);
    NvmeSubsystem *subsys = ctrl->subsys;
    NvmeNamespace *ns;

    if (nsid == NVME_NSID_BROADCAST) {
        /* every pool namespace; those of the command line stay */
        for (nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
            ns = nvme_subsys_ns(subsys, nsid);
            if (ns && nvme_pool_entry_of(ns)) {
                nvme_pool_delete_ns(ns);
            }
        }
        return NVME_OK;
    }
    if (nsid == 0 || nsid > NVME_MAX_NAMESPACES) {
        return nvme_invalid_nsid(req);
    }
    ns = nvme_subsys_ns(subsys, nsid);
    if (!ns || !nvme_pool_entry_of(ns)) {
        /* unallocated, or a namespace of the command line */
        return nvme_invalid_field(req, NVME_ERR_LOC(nsid, 0));
    }
    nvme_pool_delete_ns(ns);
    return NVME_OK;
}

/* base 5.20 Namespace Management */
uint16_t nvme_admin_ns_mgmt(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t sel = FIELD_EX32(le32_to_cpu(req->cmd.cdw10), NVME_NS_MGMT_DW10,
                              SEL);

    switch (sel) {
    case NVME_NS_MGMT_CREATE:
        return nvme_pool_create(ctrl, req);
    case NVME_NS_MGMT_DELETE:
        return nvme_pool_delete(ctrl, req);
    default:
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw10, 0));
    }
}
