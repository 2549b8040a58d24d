/*
 * NVMe NVM command set (NVM Command Set Specification 1.0, section 3):
 * Read, Write, Flush, Write Zeroes, Dataset Management, Compare, Verify,
 * Write Uncorrectable, Copy.
 * Everything goes through QEMU's block layer asynchronously (nvme_aio_*
 * in nvme.c): a handler checks, starts its AIO and returns
 * NVME_NO_COMPLETE; the AIO's continuation either starts the next step or
 * ends the request. A request has at most one AIO in flight, so a command
 * of many steps (Verify, Compare, Dataset Management, a Flush of every
 * namespace) stops between two steps when its queue, controller or
 * namespace goes away. Backend errors follow the drive's rerror/werror.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/iov.h"
#include "qemu/memalign.h"
#include "qemu/units.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "nvme-resv.h"
#include "nvme-fault.h"
#include "trace.h"

/* Verify and Compare read the range in pieces this big */
#define NVME_VERIFY_CHUNK   (256 * KiB)
#define NVME_COMPARE_CHUNK  (128 * KiB)

uint16_t nvme_status_from_errno(int ret, bool is_write)
{
    switch (-ret) {
    case 0:
        return NVME_OK;
    case ECANCELED:
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_ABORT_REQUESTED, false);
    case ENOSPC:
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_CAPACITY_EXCEEDED, true);
    case EACCES:
    case EPERM:
    case EROFS:
        return nvme_status(NVME_SCT_MEDIA, NVME_SC_ACCESS_DENIED, true);
    case EIO:
        return nvme_status(NVME_SCT_MEDIA, is_write ? NVME_SC_WRITE_FAULT :
                           NVME_SC_UNRECOVERED_READ, false);
    default:
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_INTERNAL, false);
    }
}

static bool nvme_io_is_write(NvmeRequest *req)
{
    return req->cmd.opcode != NVME_IO_READ &&
           req->cmd.opcode != NVME_IO_COMPARE &&
           req->cmd.opcode != NVME_IO_VERIFY;
}

static uint64_t nvme_io_slba(NvmeRequest *req)
{
    return (uint64_t)le32_to_cpu(req->cmd.cdw11) << 32 |
           le32_to_cpu(req->cmd.cdw10);
}

static uint32_t nvme_io_nlb(NvmeRequest *req)
{
    return FIELD_EX32(le32_to_cpu(req->cmd.cdw12), NVME_RW_DW12, NLB) + 1;
}

/* The command's AIO ended with @ret (after the drive's error policy) */
static inline void nvme_io_end(NvmeRequest *req, int ret)
{
    uint16_t status;

    if (likely(ret == 0)) {
        nvme_req_complete(req, NVME_OK);
        return;
    }
    status = nvme_status_from_errno(ret, nvme_io_is_write(req));
    if (status) {
        req->error_lba = nvme_io_slba(req);
        if (NVME_STATUS_SCT(status) == NVME_SCT_MEDIA) {
            req->sq->ctrl->smart.media_errors++;
        }
    }
    nvme_req_complete(req, status);
}

/* A step's AIO failed (after the drive's error policy): the command ends */
static bool nvme_io_step_failed(NvmeRequest *req, int ret)
{
    if (ret < 0) {
        nvme_io_end(req, ret);
        return true;
    }
    return false;
}

/* A continuation's next step: running, or the status to end with */
static void nvme_io_go_on(NvmeRequest *req, uint16_t status)
{
    if (status != NVME_NO_COMPLETE) {
        nvme_req_complete(req, status);
    }
}

static void nvme_io_end_cb(NvmeRequest *req, int ret)
{
    nvme_io_end(req, ret);
}

/* The block layer's statistics of the command, closed when it ends */
static void nvme_io_acct_start(NvmeRequest *req, size_t bytes,
                               enum BlockAcctType type)
{
    block_acct_start(blk_get_stats(nvme_ns_blk(req->ns)), &req->acct, bytes,
                     type);
    req->acct_ns = req->ns;
}

/*
 * However a command ends: statistics, and the SMART counters (base
 * 5.16.1.3: host read commands and data units read include Compare).
 */
static void nvme_io_release(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns = req->acct_ns;
    BlockAcctStats *stats;

    if (!ns) {
        return;
    }
    req->acct_ns = NULL;
    stats = blk_get_stats(nvme_ns_blk(ns));
    if (req->status != NVME_OK) {
        block_acct_failed(stats, &req->acct);
        return;
    }
    block_acct_done(stats, &req->acct);
    switch (req->cmd.opcode) {
    case NVME_IO_WRITE:
        ctrl->smart.write_cmds++;
        ctrl->smart.bytes_written += req->acct.bytes;
        break;
    case NVME_IO_READ:
    case NVME_IO_COMPARE:
        ctrl->smart.read_cmds++;
        ctrl->smart.bytes_read += req->acct.bytes;
        break;
    }
}

/* Durable on completion: asked for (FUA), or the cache is off (VWC) */
static BdrvRequestFlags nvme_io_fua(NvmeCtrl *ctrl, bool fua)
{
    return fua || !ctrl->features.vwc ? BDRV_REQ_FUA : 0;
}

/*
 * A read of a block Write Uncorrectable marked fails (NVM 3.3.8) with
 * Unrecovered Read Error; the error log names the first such block.
 */
static inline uint16_t nvme_io_check_uncorr(NvmeRequest *req, uint64_t slba,
                                            uint64_t nlb)
{
    uint64_t lba;

    if (likely(!nvme_ns_uncorr_find(req->ns, slba, nlb, &lba))) {
        return NVME_OK;
    }
    req->error_lba = lba;
    req->sq->ctrl->smart.media_errors++;
    return nvme_status(NVME_SCT_MEDIA, NVME_SC_UNRECOVERED_READ, true);
}

/*
 * Gates shared by commands addressing an LBA range (NVM 3.3), the range
 * being read or written (@is_write)
 */
static inline QEMU_ALWAYS_INLINE
uint16_t nvme_io_check_range_as(NvmeRequest *req, uint64_t slba, uint64_t nlb,
                                bool is_write)
{
    NvmeNamespace *ns = req->ns;

    if (nvme_ns_formatting(ns)) {
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_FORMAT_IN_PROGRESS, false);
    }
    if (!nvme_ns_range_ok(ns, slba, nlb)) {
        trace_pci_nvme_err_lba_range(slba, nlb, ns->nlbas);
        req->error_lba = slba;
        req->error_loc = NVME_ERR_LOC(cdw10, 0);
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE, true);
    }
    if (unlikely(req->sq->ctrl->subsys->nr_faults)) {
        uint16_t status = nvme_fault_range(req, slba, nlb, is_write);

        if (status) {
            return status;
        }
    }
    if (!is_write) {
        /* Read, Compare, Verify: blocks Write Uncorrectable marked fail */
        return nvme_io_check_uncorr(req, slba, nlb);
    }
    if (ns->read_only) {
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_NS_WRITE_PROTECTED, true);
    }
    return NVME_OK;
}

static inline QEMU_ALWAYS_INLINE
uint16_t nvme_io_check_range(NvmeRequest *req, uint64_t slba, uint64_t nlb)
{
    return nvme_io_check_range_as(req, slba, nlb, nvme_io_is_write(req));
}

/* The range, MDTS, then the data pointer mapped (@to_guest: a read) */
static inline QEMU_ALWAYS_INLINE
uint16_t nvme_io_check_data(NvmeCtrl *ctrl, NvmeRequest *req, uint64_t slba,
                            uint32_t nlb, bool to_guest)
{
    uint16_t status = nvme_io_check_range(req, slba, nlb);

    if (status) {
        return status;
    }
    if (!nvme_len_within_mdts(ctrl, nvme_ns_bytes(req->ns, nlb))) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw12, 0));
    }
    return nvme_map_data(ctrl, req, nvme_ns_bytes(req->ns, nlb), to_guest);
}

/*
 * NVM 3.3.4 Read, 3.3.6 Write: guest memory is mapped and handed to the
 * block layer as it is. FUA is always honoured, and so is this controller's
 * volatile write cache setting: with it off every write is FUA.
 */
static uint16_t nvme_io_rw(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    uint64_t slba = nvme_io_slba(req);
    uint32_t nlb = nvme_io_nlb(req);
    bool is_write = req->cmd.opcode == NVME_IO_WRITE;
    bool fua = FIELD_EX32(le32_to_cpu(req->cmd.cdw12), NVME_RW_DW12, FUA);
    uint16_t status = nvme_io_check_data(ctrl, req, slba, nlb, !is_write);

    if (status) {
        return status;
    }
    nvme_io_acct_start(req, nvme_ns_bytes(ns, nlb),
                       is_write ? BLOCK_ACCT_WRITE : BLOCK_ACCT_READ);
    if (!is_write) {
        return nvme_aio_read(req, ns, nvme_ns_bytes(ns, slba), &req->iov,
                             nvme_io_end_cb);
    }
    return nvme_aio_write(req, ns, nvme_ns_bytes(ns, slba), &req->iov,
                          nvme_io_fua(ctrl, fua), nvme_io_end_cb);
}

/* ---- Flush --------------------------------------------------------------- */

/* Flush the next attached namespace after req->flush_nsid */
static uint16_t nvme_io_flush_next(NvmeCtrl *ctrl, NvmeRequest *req);

static void nvme_io_flush_cb(NvmeRequest *req, int ret)
{
    if (nvme_io_step_failed(req, ret)) {
        return;
    }
    nvme_io_go_on(req, nvme_io_flush_next(req->sq->ctrl, req));
}

static uint16_t nvme_io_flush_next(NvmeCtrl *ctrl, NvmeRequest *req)
{
    for (uint32_t nsid = req->flush_nsid + 1; nsid <= NVME_MAX_NAMESPACES;
         nsid++) {
        NvmeNamespace *ns = nvme_ctrl_ns(ctrl, nsid);

        if (ns) {
            req->flush_nsid = nsid;
            return nvme_aio_flush(req, ns, nvme_io_flush_cb);
        }
    }
    return NVME_OK;
}

/*
 * NVM 3.3.1 Flush. NSID FFFFFFFFh flushes every attached namespace, one
 * after the other, so that each flush follows its own drive's error
 * policy and a retry after werror=stop goes on with the rest.
 */
static uint16_t nvme_io_flush(NvmeCtrl *ctrl, NvmeRequest *req)
{
    if (req->ns) {
        nvme_io_acct_start(req, 0, BLOCK_ACCT_FLUSH);
        return nvme_aio_flush(req, req->ns, nvme_io_end_cb);
    }
    req->flush_nsid = 0;
    return nvme_io_flush_next(ctrl, req);
}

/* ---- Write Zeroes and Dataset Management --------------------------------- */

/* NVM 3.3.7 Write Zeroes; DEAC lets the backend unmap (DLFEAT 001b) */
static uint16_t nvme_io_write_zeroes(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    uint32_t dw12 = le32_to_cpu(req->cmd.cdw12);
    uint64_t slba = nvme_io_slba(req);
    uint32_t nlb = nvme_io_nlb(req);
    BdrvRequestFlags flags = 0;
    uint16_t status = nvme_io_check_range(req, slba, nlb);

    if (status) {
        return status;
    }
    if (FIELD_EX32(dw12, NVME_RW_DW12, DEAC)) {
        flags |= BDRV_REQ_MAY_UNMAP;
    }
    flags |= nvme_io_fua(ctrl, FIELD_EX32(dw12, NVME_RW_DW12, FUA));
    return nvme_aio_zeroes(req, ns, nvme_ns_bytes(ns, slba),
                           nvme_ns_bytes(ns, nlb), flags, nvme_io_end_cb);
}

/*
 * Range @i of a Dataset Management command, read from the host's buffer
 * (mapped, not copied) and checked. Read again when it is deallocated: a
 * host that changes it meanwhile gets the check then, not our memory.
 */
static uint16_t nvme_io_dsm_range(NvmeCtrl *ctrl, NvmeRequest *req,
                                  unsigned i, uint64_t *slba, uint32_t *nlb)
{
    NvmeDsmRange range;

    iov_to_buf(req->iov.iov, req->iov.niov, i * sizeof(range), &range,
               sizeof(range));
    *slba = le64_to_cpu(range.slba);
    *nlb = le32_to_cpu(range.nlb);
    return nvme_io_check_range(req, *slba, *nlb);
}

static void nvme_io_dsm_cb(NvmeRequest *req, int ret);

/* Deallocate the next non-empty range, one at a time */
static uint16_t nvme_io_dsm_next(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;

    while (req->dsm.next < req->dsm.nr) {
        uint64_t slba;
        uint32_t nlb;
        uint16_t status = nvme_io_dsm_range(ctrl, req, req->dsm.next++, &slba,
                                            &nlb);

        if (status) {
            return status;
        }
        if (nlb) {
            return nvme_aio_zeroes(req, ns, nvme_ns_bytes(ns, slba),
                                   nvme_ns_bytes(ns, nlb), BDRV_REQ_MAY_UNMAP,
                                   nvme_io_dsm_cb);
        }
    }
    return NVME_OK;
}

static void nvme_io_dsm_cb(NvmeRequest *req, int ret)
{
    if (nvme_io_step_failed(req, ret)) {
        return;
    }
    nvme_io_go_on(req, nvme_io_dsm_next(req->sq->ctrl, req));
}

/* NVM 3.3.3 Dataset Management: only the Deallocate attribute acts */
static uint16_t nvme_io_dsm(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw10 = le32_to_cpu(req->cmd.cdw10);
    uint32_t dw11 = le32_to_cpu(req->cmd.cdw11);
    unsigned nr = FIELD_EX32(dw10, NVME_DSM_DW10, NR) + 1;
    bool deallocate = FIELD_EX32(dw11, NVME_DSM_DW11, AD);
    uint16_t status = nvme_map_data(ctrl, req, nr * sizeof(NvmeDsmRange),
                                    false);

    if (status || !deallocate) {
        return status;          /* without AD the attributes are only hints */
    }
    /* every range is checked before any is deallocated */
    for (unsigned i = 0; i < nr; i++) {
        uint64_t slba;
        uint32_t nlb;

        status = nvme_io_dsm_range(ctrl, req, i, &slba, &nlb);
        if (status) {
            return status;
        }
    }
    req->dsm.nr = nr;
    req->dsm.next = 0;
    return nvme_io_dsm_next(ctrl, req);
}

/* ---- Compare and Verify -------------------------------------------------- */

/* Is the host's data at @offset of req->iov equal to @buf? */
static bool nvme_io_host_data_equal(NvmeRequest *req, size_t offset,
                                    const uint8_t *buf, size_t len)
{
    for (int i = 0; i < req->iov.niov && len; i++) {
        struct iovec *v = &req->iov.iov[i];
        size_t n;

        if (offset >= v->iov_len) {
            offset -= v->iov_len;
            continue;
        }
        n = MIN(v->iov_len - offset, len);
        if (memcmp((uint8_t *)v->iov_base + offset, buf, n)) {
            return false;
        }
        buf += n;
        len -= n;
        offset = 0;
    }
    return true;
}

static void nvme_io_compare_cb(NvmeRequest *req, int ret);

/* Read the next piece of the range into bounce memory (borrowed once) */
static uint16_t nvme_io_compare_next(NvmeRequest *req)
{
    NvmeRangeJob *job = &req->range;
    size_t chunk = MIN(NVME_COMPARE_CHUNK, job->end - job->offset);

    qemu_iovec_init_buf(&req->bounce_qiov, req->bounce, chunk);
    return nvme_aio_read(req, req->ns, job->offset, &req->bounce_qiov,
                         nvme_io_compare_cb);
}

static void nvme_io_compare_resume(NvmeRequest *req)
{
    nvme_io_go_on(req, nvme_io_compare_next(req));
}

static void nvme_io_compare_cb(NvmeRequest *req, int ret)
{
    NvmeRangeJob *job = &req->range;
    size_t chunk = req->bounce_qiov.size;

    if (nvme_io_step_failed(req, ret)) {
        return;
    }
    if (!nvme_io_host_data_equal(req, job->done, req->bounce, chunk)) {
        nvme_req_complete(req, nvme_status(NVME_SCT_MEDIA,
                                           NVME_SC_COMPARE_FAILURE, true));
        return;
    }
    job->done += chunk;
    job->offset += chunk;
    if (job->offset == job->end) {
        nvme_io_end(req, 0);
        return;
    }
    nvme_io_go_on(req, nvme_io_compare_next(req));
}

/* NVM 3.3.2 Compare: the range, piece by piece, against the host's data */
static uint16_t nvme_io_compare(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    uint64_t slba = nvme_io_slba(req);
    uint32_t nlb = nvme_io_nlb(req);
    size_t len = nvme_ns_bytes(ns, nlb);
    uint16_t status = nvme_io_check_data(ctrl, req, slba, nlb, false);

    if (status) {
        return status;
    }
    req->range = (NvmeRangeJob) {
        .offset = nvme_ns_bytes(ns, slba),
        .end = nvme_ns_bytes(ns, slba) + len,
    };
    nvme_io_acct_start(req, len, BLOCK_ACCT_READ);
    if (!nvme_bounce_get(req, MIN(len, NVME_COMPARE_CHUNK),
                         nvme_io_compare_resume)) {
        return NVME_NO_COMPLETE;        /* waits for memory */
    }
    return nvme_io_compare_next(req);
}

static void nvme_io_verify_cb(NvmeRequest *req, int ret);

/*
 * Verify reads the range and throws the data away: every Verify of the
 * controller reads into one sink, whose contents nobody looks at.
 */
static uint16_t nvme_io_verify_next(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeRangeJob *job = &req->range;
    size_t chunk = MIN(NVME_VERIFY_CHUNK, job->end - job->offset);
    uint16_t status;

    if (!ctrl->verify_sink) {
        ctrl->verify_sink = qemu_memalign(4 * KiB, NVME_VERIFY_CHUNK);
    }
    qemu_iovec_init_buf(&req->bounce_qiov, ctrl->verify_sink, chunk);
    status = nvme_aio_read(req, req->ns, job->offset, &req->bounce_qiov,
                           nvme_io_verify_cb);
    if (status == NVME_NO_COMPLETE) {
        job->offset += chunk;
    }
    return status;
}

static void nvme_io_verify_cb(NvmeRequest *req, int ret)
{
    if (ret < 0 || req->range.offset == req->range.end) {
        nvme_io_end(req, ret);
        return;
    }
    nvme_io_go_on(req, nvme_io_verify_next(req->sq->ctrl, req));
}

/* NVM 3.3.5 Verify: read the range, transfer nothing */
static uint16_t nvme_io_verify(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    uint64_t slba = nvme_io_slba(req);
    uint32_t nlb = nvme_io_nlb(req);
    uint16_t status = nvme_io_check_range(req, slba, nlb);

    if (status) {
        return status;
    }
    req->range = (NvmeRangeJob) {
        .offset = nvme_ns_bytes(ns, slba),
        .end = nvme_ns_bytes(ns, slba + nlb),
    };
    return nvme_io_verify_next(ctrl, req);
}

/* ---- Copy ---------------------------------------------------------------- */

/* Copy moves data through bounce memory in pieces of at most this */
#define NVME_COPY_CHUNK     (128 * KiB)

static void nvme_io_copy_read_cb(NvmeRequest *req, int ret);
static void nvme_io_copy_write_cb(NvmeRequest *req, int ret);

static uint16_t nvme_io_size_limit(void)
{
    return nvme_status(NVME_SCT_CMD_SPECIFIC, NVME_SC_CMD_SIZE_LIMIT, true);
}

/* Read the next piece of the current source range into the bounce memory */
static uint16_t nvme_io_copy_next(NvmeRequest *req)
{
    NvmeCopyJob *job = &req->copy;
    NvmeNamespace *ns = req->ns;
    uint64_t max = (req->bounce_len - job->nr * sizeof(NvmeCopySrc)) >>
                   ns->lbads;
    NvmeCopySrc *src;
    uint64_t slba, nlb;
    uint16_t status;

    while (job->next < job->nr && job->done == job->src[job->next].nlb) {
        job->next++;
        job->done = 0;
    }
    if (job->next == job->nr) {
        return NVME_OK;
    }
    src = &job->src[job->next];
    slba = src->slba + job->done;
    nlb = MIN(src->nlb - job->done, max);
    status = nvme_io_check_uncorr(req, slba, nlb);
    if (status) {
        return status;
    }
    job->chunk = nlb;
    qemu_iovec_init_buf(&req->bounce_qiov, req->bounce,
                        nvme_ns_bytes(ns, nlb));
    return nvme_aio_read(req, ns, nvme_ns_bytes(ns, slba), &req->bounce_qiov,
                         nvme_io_copy_read_cb);
}

static void nvme_io_copy_read_cb(NvmeRequest *req, int ret)
{
    NvmeCopyJob *job = &req->copy;
    NvmeNamespace *ns = req->ns;

    if (nvme_io_step_failed(req, ret)) {
        return;
    }
    nvme_io_go_on(req, nvme_aio_write(req, ns, nvme_ns_bytes(ns, job->dlba),
                                      &req->bounce_qiov, job->flags,
                                      nvme_io_copy_write_cb));
}

static void nvme_io_copy_write_cb(NvmeRequest *req, int ret)
{
    NvmeCopyJob *job = &req->copy;

    if (nvme_io_step_failed(req, ret)) {
        return;
    }
    job->done += job->chunk;
    job->dlba += job->chunk;
    nvme_io_go_on(req, nvme_io_copy_next(req));
}

/*
 * With its bounce memory: read the Source Range Entries from the host's
 * buffer once, check them all against MSSRL, MCL and the namespace, keep
 * them behind the data piece, then copy range after range.
 */
static uint16_t nvme_io_copy_start(NvmeRequest *req)
{
    NvmeCopyJob *job = &req->copy;
    uint64_t sdlba = nvme_io_slba(req);
    uint64_t total = 0;
    uint16_t status;

    job->src = (NvmeCopySrc *)((uint8_t *)req->bounce + req->bounce_len -
                               job->nr * sizeof(NvmeCopySrc));
    for (unsigned i = 0; i < job->nr; i++) {
        NvmeCopyRange range;
        uint64_t slba;
        uint32_t nlb;

        iov_to_buf(req->iov.iov, req->iov.niov, i * sizeof(range), &range,
                   sizeof(range));
        slba = le64_to_cpu(range.slba);
        nlb = le16_to_cpu(range.nlb) + 1;
        if (nlb > NVME_COPY_MSSRL) {
            return nvme_io_size_limit();
        }
        status = nvme_io_check_range_as(req, slba, nlb, false);   /* read */
        if (status) {
            return status;
        }
        job->src[i] = (NvmeCopySrc) { .slba = slba, .nlb = nlb };
        total += nlb;
    }
    if (total > NVME_COPY_MCL) {
        return nvme_io_size_limit();
    }
    status = nvme_io_check_range(req, sdlba, total);
    if (status) {
        return status;
    }
    job->dlba = sdlba;
    return nvme_io_copy_next(req);
}

static void nvme_io_copy_resume(NvmeRequest *req)
{
    nvme_io_go_on(req, nvme_io_copy_start(req));
}

/*
 * NVM 3.3.1 Copy, Source Range Entries format 0h only (OCFS bit 0): from
 * ranges of the namespace to one range of it, with the limits Identify
 * Namespace reports (MSSRL, MCL, MSRC).
 */
static uint16_t nvme_io_copy(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint32_t dw12 = le32_to_cpu(req->cmd.cdw12);
    unsigned nr = FIELD_EX32(dw12, NVME_COPY_DW12, NR) + 1;
    size_t chunk = MIN(NVME_COPY_CHUNK, nvme_ns_bytes(req->ns, NVME_COPY_MCL));
    uint16_t status;

    if (FIELD_EX32(dw12, NVME_COPY_DW12, DESFMT) != 0) {
        return nvme_invalid_field(req, NVME_ERR_LOC(cdw12, 8));
    }
    if (nr > NVME_COPY_MSRC) {
        return nvme_io_size_limit();
    }
    status = nvme_map_data(ctrl, req, nr * sizeof(NvmeCopyRange), false);
    if (status) {
        return status;
    }
    req->copy = (NvmeCopyJob) {
        .nr = nr,
        .flags = nvme_io_fua(ctrl, FIELD_EX32(dw12, NVME_COPY_DW12, FUA)),
    };
    if (!nvme_bounce_get(req, chunk + nr * sizeof(NvmeCopySrc),
                         nvme_io_copy_resume)) {
        return NVME_NO_COMPLETE;        /* waits for memory */
    }
    return nvme_io_copy_start(req);
}

/* ---- Write Uncorrectable ------------------------------------------------ */

/*
 * NVM 3.3.8 Write Uncorrectable: reads of the range fail until it is
 * written, zeroed, deallocated or formatted. The marks belong to the
 * namespace (every controller sees them) and live in QEMU's memory only.
 */
static uint16_t nvme_io_write_uncorr(NvmeCtrl *ctrl, NvmeRequest *req)
{
    uint64_t slba = nvme_io_slba(req);
    uint32_t nlb = nvme_io_nlb(req);
    uint16_t status = nvme_io_check_range(req, slba, nlb);

    if (status) {
        return status;
    }
    if (!nvme_ns_uncorr_mark(req->ns, slba, nlb)) {
        /* more scattered marks than NVME_NS_UNCORR_MAX chunks hold */
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_INTERNAL, true);
    }
    return NVME_OK;
}

/* @resv: the command groups a reservation may refuse (base 8.19.1) */
#define NVM_CMD(op, name, fn, eff, resv) \
    [op] = { name, fn, eff, NVME_CMDF_NS | NVME_CMDF_ANA | (resv), \
             nvme_io_release }
#define RD      NVME_CMDF_RESV_READ
#define WR      NVME_CMDF_RESV_WRITE

const NvmeCmdDesc nvme_nvm_cmds[256] = {
    [NVME_IO_FLUSH] = { "flush", nvme_io_flush, 0,
                        NVME_CMDF_NS | NVME_CMDF_NS_BCAST | NVME_CMDF_ANA | WR,
                        nvme_io_release },
    NVM_CMD(NVME_IO_WRITE, "write", nvme_io_rw, NVME_EFF_LBCC, WR),
    NVM_CMD(NVME_IO_READ, "read", nvme_io_rw, 0, RD),
    NVM_CMD(NVME_IO_COMPARE, "compare", nvme_io_compare, 0, RD),
    NVM_CMD(NVME_IO_WRITE_UNCORRECTABLE, "write-uncorrectable",
            nvme_io_write_uncorr, NVME_EFF_LBCC, WR),
    NVM_CMD(NVME_IO_COPY, "copy", nvme_io_copy, NVME_EFF_LBCC, RD | WR),
    NVM_CMD(NVME_IO_WRITE_ZEROES, "write-zeroes", nvme_io_write_zeroes,
            NVME_EFF_LBCC, WR),
    NVM_CMD(NVME_IO_DSM, "dataset-management", nvme_io_dsm, NVME_EFF_LBCC,
            WR),
    NVM_CMD(NVME_IO_VERIFY, "verify", nvme_io_verify, 0, RD),
    /* nvme-resv.c: always allowed, they check the reservation themselves */
    NVM_CMD(NVME_IO_RESV_REGISTER, "reservation-register",
            nvme_io_resv_register, 0, 0),
    NVM_CMD(NVME_IO_RESV_REPORT, "reservation-report", nvme_io_resv_report,
            0, 0),
    NVM_CMD(NVME_IO_RESV_ACQUIRE, "reservation-acquire",
            nvme_io_resv_acquire, 0, 0),
    NVM_CMD(NVME_IO_RESV_RELEASE, "reservation-release",
            nvme_io_resv_release, 0, 0),
};
