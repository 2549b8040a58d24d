/*
 * NVMe NVM command set (NVM Command Set Specification 1.0, section 3):
 * Read, Write, Flush, Write Zeroes, Dataset Management, Compare, Verify.
 * Everything goes through QEMU's block layer asynchronously; a handler
 * checks, starts AIO and returns NVME_NO_COMPLETE, and the callback ends the
 * request. Backend errors follow the drive's rerror/werror policy.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/iov.h"
#include "qemu/units.h"
#include "system/block-backend.h"
#include "system/runstate.h"
#include "nvme.h"
#include "trace.h"

#define NVME_VERIFY_CHUNK   (1 * MiB)      /* Verify reads in pieces this big */

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

/*
 * End a request's AIO. The drive's error policy decides (rerror/werror):
 * report the error, ignore it, or stop the VM and retry on resume.
 */
static void nvme_io_finish(NvmeRequest *req, int ret)
{
    BlockBackend *blk = nvme_ns_blk(req->ns);
    bool is_write = nvme_io_is_write(req);
    BlockErrorAction action = BLOCK_ERROR_ACTION_REPORT;

    req->aiocb = NULL;
    if (ret < 0 && ret != -ECANCELED) {
        action = blk_get_error_action(blk, !is_write, -ret);
        trace_nvme_io_error(nvme_cid(req), req->cmd.opcode, ret, action);
        blk_error_action(blk, action, !is_write, -ret);
    }
    if (action == BLOCK_ERROR_ACTION_STOP) {
        /* nvme_io_retry() starts it again when the VM resumes */
        req->sq->ctrl->stopped_reqs++;
        req->stopped = true;
        return;
    }
    if (action == BLOCK_ERROR_ACTION_IGNORE) {
        ret = 0;
    }
    req->status = nvme_status_from_errno(ret, is_write);
    if (req->status) {
        req->error_lba = nvme_io_slba(req);
        if (NVME_STATUS_SCT(req->status) == NVME_SCT_MEDIA) {
            req->sq->ctrl->smart.media_errors++;
        }
    }
    nvme_req_complete(req);
}

/* base 5.16.1.3: host read commands and data units read include Compare */
static void nvme_io_count(NvmeRequest *req, int ret)
{
    BlockAcctStats *stats = blk_get_stats(nvme_ns_blk(req->ns));
    NvmeSmartCounters *smart = &req->sq->ctrl->smart;

    if (ret < 0) {
        block_acct_failed(stats, &req->acct);
        return;
    }
    block_acct_done(stats, &req->acct);
    switch (req->cmd.opcode) {
    case NVME_IO_WRITE:
        smart->write_cmds++;
        smart->bytes_written += req->acct.bytes;
        break;
    case NVME_IO_READ:
    case NVME_IO_COMPARE:
        smart->read_cmds++;
        smart->bytes_read += req->acct.bytes;
        break;
    }
}

static void nvme_io_acct_cb(void *opaque, int ret)
{
    nvme_io_count(opaque, ret);
    nvme_io_finish(opaque, ret);
}

static void nvme_io_done_cb(void *opaque, int ret)
{
    nvme_io_finish(opaque, ret);
}

/* Gates shared by commands addressing an LBA range (NVM 3.3). */
static uint16_t nvme_io_check_range(NvmeCtrl *ctrl, NvmeRequest *req,
                                    uint64_t slba, uint64_t nlb)
{
    NvmeNamespace *ns = req->ns;

    if (ns->formatting) {
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_FORMAT_IN_PROGRESS, false);
    }
    if (!nvme_ns_range_ok(ns, slba, nlb)) {
        trace_nvme_err_lba_range(slba, nlb, ns->nlbas);
        req->error_lba = slba;
        req->error_loc = NVME_LOC(40, 0);
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_LBA_OUT_OF_RANGE, true);
    }
    if (nvme_io_is_write(req) && ns->read_only) {
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_NS_WRITE_PROTECTED, true);
    }
    return NVME_OK;
}

static uint16_t nvme_io_check_data(NvmeCtrl *ctrl, NvmeRequest *req,
                                   uint64_t slba, uint32_t nlb)
{
    uint16_t status = nvme_io_check_range(ctrl, req, slba, nlb);

    if (status) {
        return status;
    }
    if (!nvme_len_within_mdts(ctrl, nvme_ns_bytes(req->ns, nlb))) {
        return nvme_invalid_field(req, NVME_LOC(48, 0));
    }
    return nvme_map_data(ctrl, req, nvme_ns_bytes(req->ns, nlb));
}

static BlockAIOCB *nvme_io_writev_fua(int64_t offset, QEMUIOVector *iov,
                                      BlockCompletionFunc *cb, void *cb_opaque,
                                      void *opaque)
{
    NvmeRequest *req = opaque;

    return blk_aio_pwritev(nvme_ns_blk(req->ns), offset, iov, BDRV_REQ_FUA,
                           cb, cb_opaque);
}

/* NVM 3.3.4 Read, 3.3.6 Write */
static uint16_t nvme_io_rw(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    BlockBackend *blk = nvme_ns_blk(ns);
    uint64_t slba = nvme_io_slba(req);
    uint32_t nlb = nvme_io_nlb(req);
    uint64_t offset = nvme_ns_bytes(ns, slba);
    bool is_write = req->cmd.opcode == NVME_IO_WRITE;
    bool fua = FIELD_EX32(le32_to_cpu(req->cmd.cdw12), NVME_RW_DW12, FUA);
    uint16_t status = nvme_io_check_data(ctrl, req, slba, nlb);

    if (status) {
        return status;
    }
    block_acct_start(blk_get_stats(blk), &req->acct, nvme_ns_bytes(ns, nlb),
                     is_write ? BLOCK_ACCT_WRITE : BLOCK_ACCT_READ);
    if (!is_write) {
        req->aiocb = dma_blk_read(blk, &req->qsg, offset, BDRV_SECTOR_SIZE,
                                  nvme_io_acct_cb, req);
    } else if (fua && ctrl->features.vwc) {
        req->aiocb = dma_blk_io(&req->qsg, offset, BDRV_SECTOR_SIZE,
                                nvme_io_writev_fua, req, nvme_io_acct_cb, req,
                                DMA_DIRECTION_TO_DEVICE);
    } else {
        req->aiocb = dma_blk_write(blk, &req->qsg, offset, BDRV_SECTOR_SIZE,
                                   nvme_io_acct_cb, req);
    }
    return NVME_NO_COMPLETE;
}

/* Several AIOs for one request: the last one to finish completes it. */
static void nvme_io_multi_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;

    if (ret < 0 && !req->aio_ret) {
        req->aio_ret = ret;
    }
    if (--req->aio_inflight == 0) {
        nvme_io_finish(req, req->aio_ret);
    }
}

/* NVM 3.3.1 Flush; NSID FFFFFFFFh flushes every attached namespace */
static uint16_t nvme_io_flush(NvmeCtrl *ctrl, NvmeRequest *req)
{
    if (req->ns) {
        block_acct_start(blk_get_stats(nvme_ns_blk(req->ns)), &req->acct, 0,
                         BLOCK_ACCT_FLUSH);
        req->aiocb = blk_aio_flush(nvme_ns_blk(req->ns), nvme_io_acct_cb, req);
        return NVME_NO_COMPLETE;
    }
    req->aio_inflight = 1;      /* held until every flush is started */
    for (unsigned nsid = 1; nsid <= NVME_MAX_NAMESPACES; nsid++) {
        NvmeNamespace *ns = ctrl->namespaces[nsid];
        if (ns) {
            req->ns = ns;       /* any attached one, for the error policy */
            req->aio_inflight++;
            blk_aio_flush(nvme_ns_blk(ns), nvme_io_multi_cb, req);
        }
    }
    if (!req->ns) {
        return NVME_OK;         /* nothing attached, nothing to flush */
    }
    nvme_io_multi_cb(req, 0);
    return NVME_NO_COMPLETE;
}

/* NVM 3.3.7 Write Zeroes; DEAC lets the backend unmap (DLFEAT 001b) */
static uint16_t nvme_io_write_zeroes(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    uint32_t dw12 = le32_to_cpu(req->cmd.cdw12);
    uint64_t slba = nvme_io_slba(req);
    uint32_t nlb = nvme_io_nlb(req);
    BdrvRequestFlags flags = 0;
    uint16_t status = nvme_io_check_range(ctrl, req, slba, nlb);

    if (status) {
        return status;
    }
    if (FIELD_EX32(dw12, NVME_RW_DW12, DEAC)) {
        flags |= BDRV_REQ_MAY_UNMAP;
    }
    if (FIELD_EX32(dw12, NVME_RW_DW12, FUA)) {
        flags |= BDRV_REQ_FUA;
    }
    req->aiocb = blk_aio_pwrite_zeroes(nvme_ns_blk(ns),
                                       nvme_ns_bytes(ns, slba),
                                       nvme_ns_bytes(ns, nlb), flags,
                                       nvme_io_done_cb, req);
    return NVME_NO_COMPLETE;
}

/* NVM 3.3.3 Dataset Management: only the Deallocate attribute acts */
static uint16_t nvme_io_dsm(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    unsigned nr = FIELD_EX32(le32_to_cpu(req->cmd.cdw10), NVME_DSM_DW10, NR) + 1;
    bool deallocate = FIELD_EX32(le32_to_cpu(req->cmd.cdw11), NVME_DSM_DW11, AD);
    NvmeDsmRange *ranges = g_new(NvmeDsmRange, nr);
    uint16_t status;

    req->opaque = ranges;
    status = nvme_copy_from_host(ctrl, req, ranges, nr * sizeof(*ranges));
    if (status || !deallocate) {
        return status;          /* without AD the attributes are only hints */
    }
    for (unsigned i = 0; i < nr; i++) {
        status = nvme_io_check_range(ctrl, req, le64_to_cpu(ranges[i].slba),
                                     le32_to_cpu(ranges[i].nlb));
        if (status) {
            return status;
        }
    }
    req->aio_inflight = 1;
    for (unsigned i = 0; i < nr; i++) {
        uint32_t nlb = le32_to_cpu(ranges[i].nlb);
        if (nlb) {
            req->aio_inflight++;
            blk_aio_pwrite_zeroes(nvme_ns_blk(ns),
                                  nvme_ns_bytes(ns, le64_to_cpu(ranges[i].slba)),
                                  nvme_ns_bytes(ns, nlb), BDRV_REQ_MAY_UNMAP,
                                  nvme_io_multi_cb, req);
        }
    }
    nvme_io_multi_cb(req, 0);
    return NVME_NO_COMPLETE;
}

/* Compare and Verify read the range into a bounce buffer first. */
typedef struct NvmeIoBounce {
    QEMUIOVector qiov;
    uint64_t offset;            /* next byte of the namespace to read */
    uint64_t end;
    uint8_t data[];
} NvmeIoBounce;

static void nvme_io_compare_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;
    NvmeIoBounce *bounce = req->opaque;
    size_t len = bounce->qiov.size;
    g_autofree uint8_t *host = NULL;

    qemu_iovec_destroy(&bounce->qiov);
    nvme_io_count(req, ret);
    if (ret < 0) {
        nvme_io_finish(req, ret);
        return;
    }
    host = g_malloc(len);
    req->status = nvme_copy_from_host(req->sq->ctrl, req, host, len);
    if (!req->status && memcmp(host, bounce->data, len)) {
        req->status = nvme_status(NVME_SCT_MEDIA, NVME_SC_COMPARE_FAILURE, true);
    }
    nvme_req_complete(req);
}

/* NVM 3.3.2 Compare */
static uint16_t nvme_io_compare(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    uint64_t slba = nvme_io_slba(req);
    uint32_t nlb = nvme_io_nlb(req);
    size_t len = nvme_ns_bytes(ns, nlb);
    uint16_t status = nvme_io_check_range(ctrl, req, slba, nlb);
    NvmeIoBounce *bounce;

    if (status) {
        return status;
    }
    if (!nvme_len_within_mdts(ctrl, len)) {
        return nvme_invalid_field(req, NVME_LOC(48, 0));
    }
    bounce = g_malloc(sizeof(*bounce) + len);
    req->opaque = bounce;
    qemu_iovec_init(&bounce->qiov, 1);
    qemu_iovec_add(&bounce->qiov, bounce->data, len);
    block_acct_start(blk_get_stats(nvme_ns_blk(ns)), &req->acct, len,
                     BLOCK_ACCT_READ);
    req->aiocb = blk_aio_preadv(nvme_ns_blk(ns), nvme_ns_bytes(ns, slba),
                                &bounce->qiov, 0, nvme_io_compare_cb, req);
    return NVME_NO_COMPLETE;
}

static void nvme_io_verify_cb(void *opaque, int ret)
{
    NvmeRequest *req = opaque;
    NvmeIoBounce *bounce = req->opaque;
    size_t chunk = MIN(NVME_VERIFY_CHUNK, bounce->end - bounce->offset);

    if (ret < 0 || chunk == 0) {
        qemu_iovec_destroy(&bounce->qiov);
        nvme_io_finish(req, ret);
        return;
    }
    qemu_iovec_reset(&bounce->qiov);
    qemu_iovec_add(&bounce->qiov, bounce->data, chunk);
    bounce->offset += chunk;
    req->aiocb = blk_aio_preadv(nvme_ns_blk(req->ns), bounce->offset - chunk,
                                &bounce->qiov, 0, nvme_io_verify_cb, req);
}

/* NVM 3.3.5 Verify: read the range, transfer nothing */
static uint16_t nvme_io_verify(NvmeCtrl *ctrl, NvmeRequest *req)
{
    NvmeNamespace *ns = req->ns;
    uint64_t slba = nvme_io_slba(req);
    uint32_t nlb = nvme_io_nlb(req);
    uint16_t status = nvme_io_check_range(ctrl, req, slba, nlb);
    NvmeIoBounce *bounce;

    if (status) {
        return status;
    }
    bounce = g_malloc(sizeof(*bounce) + MIN(NVME_VERIFY_CHUNK,
                                            nvme_ns_bytes(ns, nlb)));
    req->opaque = bounce;
    bounce->offset = nvme_ns_bytes(ns, slba);
    bounce->end = bounce->offset + nvme_ns_bytes(ns, nlb);
    qemu_iovec_init(&bounce->qiov, 1);
    nvme_io_verify_cb(req, 0);
    return NVME_NO_COMPLETE;
}

/* Start again the requests a stopped VM (werror/rerror=stop) held back. */
void nvme_io_retry_stopped(NvmeCtrl *ctrl)
{
    for (unsigned qid = 1; qid <= ctrl->params.max_ioqpairs && ctrl->stopped_reqs;
         qid++) {
        NvmeSQueue *sq = ctrl->sq[qid];
        NvmeRequest *req, *next;

        if (!sq) {
            continue;
        }
        QTAILQ_FOREACH_SAFE(req, &sq->out_reqs, entry, next) {
            uint16_t status;
            if (!req->stopped) {
                continue;
            }
            req->stopped = false;
            ctrl->stopped_reqs--;
            if (req->qsg_mapped) {
                qemu_sglist_destroy(&req->qsg);
                req->qsg_mapped = false;
            }
            g_free(req->opaque);
            req->opaque = NULL;
            req->aio_inflight = 0;
            req->aio_ret = 0;
            status = req->desc->exec(ctrl, req);
            if (status != NVME_NO_COMPLETE) {
                req->status = status;
                nvme_req_complete(req);
            }
        }
    }
}

#define NVM_CMD(op, name, fn, eff) \
    [op] = { name, fn, eff, NVME_CMDF_NS | NVME_CMDF_ANA }

const NvmeCmdDesc nvme_nvm_cmds[256] = {
    [NVME_IO_FLUSH] = { "flush", nvme_io_flush, 0,
                        NVME_CMDF_NS | NVME_CMDF_NS_BCAST | NVME_CMDF_ANA },
    NVM_CMD(NVME_IO_WRITE, "write", nvme_io_rw, NVME_EFF_LBCC),
    NVM_CMD(NVME_IO_READ, "read", nvme_io_rw, 0),
    NVM_CMD(NVME_IO_COMPARE, "compare", nvme_io_compare, 0),
    NVM_CMD(NVME_IO_WRITE_ZEROES, "write-zeroes", nvme_io_write_zeroes,
            NVME_EFF_LBCC),
    NVM_CMD(NVME_IO_DSM, "dataset-management", nvme_io_dsm, NVME_EFF_LBCC),
    NVM_CMD(NVME_IO_VERIFY, "verify", nvme_io_verify, 0),
};
