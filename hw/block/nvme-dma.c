/*
 * NVMe controller: guest memory and data pointers. The controller only
 * ever touches guest RAM (never MMIO, never unassigned space): PRPs (base
 * 4.3.1) and SGLs (base 4.3.2) are resolved into a QEMUSGList that the
 * block layer's DMA helpers or the copy functions below use.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "nvme.h"
#include "trace.h"

#define NVME_SGL_SEGMENT_MAX    4096    /* bounds a malicious SGL chain */

/* ---- guest memory --------------------------------------------------------- */

bool nvme_addr_is_ram(NvmeCtrl *ctrl, hwaddr addr, hwaddr len)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(ctrl));

    if (len == 0 || addr + len < addr) {
        return len == 0;
    }
    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, plen = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &plen,
                                                   false,
                                                   MEMTXATTRS_UNSPECIFIED);
        if (!memory_region_is_ram(mr) || memory_region_is_ram_device(mr) ||
            plen == 0) {
            return false;
        }
        addr += plen;
        len -= plen;
    }
    return true;
}

bool nvme_dma_read(NvmeCtrl *ctrl, hwaddr addr, void *buf, hwaddr len)
{
    return nvme_addr_is_ram(ctrl, addr, len) &&
           pci_dma_read(PCI_DEVICE(ctrl), addr, buf, len) == MEMTX_OK;
}

bool nvme_dma_write(NvmeCtrl *ctrl, hwaddr addr, const void *buf,
                           hwaddr len)
{
    return nvme_addr_is_ram(ctrl, addr, len) &&
           pci_dma_write(PCI_DEVICE(ctrl), addr, buf, len) == MEMTX_OK;
}

/* ---- data pointers: PRPs and SGLs ----------------------------------------- */

static uint16_t nvme_sg_add(NvmeCtrl *ctrl, NvmeRequest *req, hwaddr addr,
                            hwaddr len)
{
    if (!nvme_addr_is_ram(ctrl, addr, len)) {
        trace_nvme_err_dma_addr(addr, len);
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR, true);
    }
    qemu_sglist_add(&req->qsg, addr, len);
    return NVME_OK;
}

/* base 4.3.1: PRP1, then PRP2 as a page or as a (chained) PRP list */
static uint16_t nvme_map_prp(NvmeCtrl *ctrl, NvmeRequest *req, size_t len)
{
    uint64_t prp1 = le64_to_cpu(req->cmd.dptr.prp1);
    uint64_t prp2 = le64_to_cpu(req->cmd.dptr.prp2);
    uint64_t page = ctrl->page_size;
    size_t first = MIN(len, page - (prp1 & (page - 1)));
    uint64_t list[512];
    uint16_t status;

    status = nvme_sg_add(ctrl, req, prp1, first);
    if (status) {
        return status;
    }
    len -= first;
    if (len == 0) {
        return NVME_OK;
    }
    if (len <= page) {
        if (prp2 & (page - 1)) {
            return nvme_status(NVME_SCT_GENERIC, NVME_SC_PRP_OFFSET_INVALID,
                               true);
        }
        return nvme_sg_add(ctrl, req, prp2, len);
    }
    /* A PRP list may start at an offset, but is dword aligned (base 4.3.1) */
    if (prp2 & 0x3) {
        return nvme_status(NVME_SCT_GENERIC, NVME_SC_PRP_OFFSET_INVALID, true);
    }
    while (len) {
        size_t in_page = (page - (prp2 & (page - 1))) / sizeof(uint64_t);
        size_t needed = DIV_ROUND_UP(len, page);
        /* the last slot of a list page chains to the next when more follow */
        bool chains = needed > in_page;
        size_t count = chains ? in_page : needed;
        hwaddr at = prp2;

        if (chains && count < 2) {
            /* a list page holding only its chain pointer makes no progress */
            return nvme_status(NVME_SCT_GENERIC, NVME_SC_PRP_OFFSET_INVALID,
                               true);
        }
        /* pages may be larger than the buffer (CC.MPS): read in pieces */
        for (size_t done = 0; done < count;) {
            size_t n = MIN(count - done, ARRAY_SIZE(list));

            if (!nvme_dma_read(ctrl, at + done * sizeof(uint64_t), list,
                               n * sizeof(uint64_t))) {
                return nvme_status(NVME_SCT_GENERIC,
                                   NVME_SC_DATA_TRANSFER_ERROR, true);
            }
            for (size_t i = 0; i < n; i++) {
                uint64_t entry = le64_to_cpu(list[i]);
                if (entry & (page - 1)) {
                    return nvme_status(NVME_SCT_GENERIC,
                                       NVME_SC_PRP_OFFSET_INVALID, true);
                }
                if (chains && done + i == count - 1) {
                    prp2 = entry;       /* next list page */
                    break;
                }
                status = nvme_sg_add(ctrl, req, entry, MIN(len, page));
                if (status) {
                    return status;
                }
                len -= MIN(len, page);
            }
            done += n;
        }
    }
    return NVME_OK;
}

static uint16_t nvme_sgl_error(uint8_t sc)
{
    return nvme_status(NVME_SCT_GENERIC, sc, true);
}

/*
 * Walk one SGL segment's descriptors. Returns the status; sets *next to the
 * segment descriptor that follows, if the segment ends with one.
 */
static uint16_t nvme_map_sgl_descs(NvmeCtrl *ctrl, NvmeRequest *req,
                                   const NvmeSgl *descs, unsigned count,
                                   bool chain_allowed, size_t *remaining,
                                   NvmeSgl *next, bool *has_next)
{
    for (unsigned i = 0; i < count; i++) {
        const NvmeSgl *d = &descs[i];
        uint8_t type = NVME_SGL_TYPE(d->type);
        uint64_t addr = le64_to_cpu(d->addr);
        uint32_t dlen = le32_to_cpu(d->len);
        uint16_t status;

        if (NVME_SGL_SUBTYPE(d->type) != 0) {
            return nvme_sgl_error(NVME_SC_SGL_TYPE_INVALID);
        }
        if (type == NVME_SGL_SEGMENT || type == NVME_SGL_LAST_SEGMENT) {
            /* only the last descriptor of a segment may chain (base 4.3.2) */
            if (i != count - 1 || !chain_allowed) {
                return nvme_sgl_error(NVME_SC_INVALID_SGL_SEGMENT);
            }
            *next = *d;
            *has_next = true;
            return NVME_OK;
        }
        if (type != NVME_SGL_DATA_BLOCK) {
            return nvme_sgl_error(NVME_SC_SGL_TYPE_INVALID);
        }
        if (dlen > *remaining) {
            return nvme_sgl_error(NVME_SC_DATA_SGL_LENGTH);
        }
        if (dlen) {
            status = nvme_sg_add(ctrl, req, addr, dlen);
            if (status) {
                return status;
            }
            *remaining -= dlen;
        }
    }
    *has_next = false;
    return NVME_OK;
}

/* base 4.3.2: SGL Data Block, Segment and Last Segment descriptors */
static uint16_t nvme_map_sgl(NvmeCtrl *ctrl, NvmeRequest *req, size_t len)
{
    NvmeSgl seg = req->cmd.dptr.sgl;
    NvmeSgl descs[256];
    size_t remaining = len;
    bool has_next = false;
    uint16_t status;
    uint8_t type = NVME_SGL_TYPE(seg.type);

    /* The SQE holds a single descriptor: data, or the first segment. */
    if (type == NVME_SGL_DATA_BLOCK) {
        status = nvme_map_sgl_descs(ctrl, req, &seg, 1, false, &remaining,
                                    &seg, &has_next);
        if (status) {
            return status;
        }
    } else if (type == NVME_SGL_SEGMENT || type == NVME_SGL_LAST_SEGMENT) {
        has_next = true;
    } else {
        return nvme_sgl_error(NVME_SC_SGL_TYPE_INVALID);
    }

    for (unsigned segments = 0; has_next; segments++) {
        uint64_t addr = le64_to_cpu(seg.addr);
        uint32_t seg_len = le32_to_cpu(seg.len);
        bool last = NVME_SGL_TYPE(seg.type) == NVME_SGL_LAST_SEGMENT;

        if (NVME_SGL_SUBTYPE(seg.type) != 0) {
            return nvme_sgl_error(NVME_SC_SGL_TYPE_INVALID);
        }
        if (seg_len == 0 || seg_len % sizeof(NvmeSgl) ||
            segments >= NVME_SGL_SEGMENT_MAX) {
            return nvme_sgl_error(NVME_SC_INVALID_SGL_SEGMENT);
        }
        has_next = false;
        while (seg_len && !has_next) {
            unsigned count = MIN(seg_len / sizeof(NvmeSgl), ARRAY_SIZE(descs));
            bool ends_here = count * sizeof(NvmeSgl) == seg_len;
            if (!nvme_dma_read(ctrl, addr, descs, count * sizeof(NvmeSgl))) {
                return nvme_sgl_error(NVME_SC_DATA_TRANSFER_ERROR);
            }
            /* a chaining descriptor is only allowed at the segment's end,
             * and never in a Last Segment */
            status = nvme_map_sgl_descs(ctrl, req, descs, count,
                                        !last && ends_here, &remaining,
                                        &seg, &has_next);
            if (status) {
                return status;
            }
            addr += count * sizeof(NvmeSgl);
            seg_len -= count * sizeof(NvmeSgl);
        }
    }
    if (remaining) {
        return nvme_sgl_error(NVME_SC_DATA_SGL_LENGTH);
    }
    return NVME_OK;
}

uint16_t nvme_map_data(NvmeCtrl *ctrl, NvmeRequest *req, size_t len)
{
    uint16_t status;

    assert(!req->qsg_mapped);
    qemu_sglist_init(&req->qsg, DEVICE(ctrl), 4,
                     pci_get_address_space(PCI_DEVICE(ctrl)));
    req->qsg_mapped = true;
    if (len == 0) {
        return NVME_OK;
    }
    if (NVME_SQE_PSDT(req->cmd.flags) == NVME_PSDT_PRP) {
        status = nvme_map_prp(ctrl, req, len);
    } else {
        status = nvme_map_sgl(ctrl, req, len);
    }
    if (status) {
        req->error_loc = NVME_LOC(24, 0);
        trace_nvme_err_map(nvme_cid(req), status);
    }
    return status;
}

static uint16_t nvme_copy(NvmeCtrl *ctrl, NvmeRequest *req, void *buf,
                          size_t len, DMADirection dir)
{
    uint16_t status = nvme_map_data(ctrl, req, len);
    uint8_t *p = buf;

    if (status) {
        return status;
    }
    for (int i = 0; i < req->qsg.nsg; i++) {
        ScatterGatherEntry *sg = &req->qsg.sg[i];
        MemTxResult res = dir == DMA_DIRECTION_FROM_DEVICE ?
            pci_dma_write(PCI_DEVICE(ctrl), sg->base, p, sg->len) :
            pci_dma_read(PCI_DEVICE(ctrl), sg->base, p, sg->len);
        if (res != MEMTX_OK) {
            return nvme_status(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR,
                               true);
        }
        p += sg->len;
    }
    return NVME_OK;
}

uint16_t nvme_copy_to_host(NvmeCtrl *ctrl, NvmeRequest *req, const void *buf,
                           size_t len)
{
    return nvme_copy(ctrl, req, (void *)buf, len, DMA_DIRECTION_FROM_DEVICE);
}

uint16_t nvme_copy_from_host(NvmeCtrl *ctrl, NvmeRequest *req, void *buf,
                             size_t len)
{
    return nvme_copy(ctrl, req, buf, len, DMA_DIRECTION_TO_DEVICE);
}
