/*
 * NVMe controller: guest memory and data pointers. The controller only
 * ever touches guest RAM it may access directly (never MMIO, never ROM as a
 * destination, never unassigned space): PRPs (base 4.3.1) and SGLs (base
 * 4.3.2) are resolved and mapped into an I/O vector (req->iov) that the
 * block layer reads into or writes from, or that the copy functions below
 * use. A mapping holds a reference to its memory region until unmapped, so
 * guest memory cannot go away under an AIO.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/iov.h"
#include "nvme.h"
#include "trace.h"

/*
 * Descriptors one command's SGL may hold, whatever their kind: bounds the
 * walk of a malicious chain (a segment pointing back at itself) and the
 * I/O vector (base 4.3.2 leaves the limit to the controller; the status is
 * Invalid Number of SGL Descriptors).
 */
#define NVME_SGL_DESC_MAX       4096
/* Entries an idle request's I/O vector may keep allocated */
#define NVME_IOV_KEEP           64

/* ---- guest memory --------------------------------------------------------- */

bool nvme_addr_is_ram(NvmeCtrl *ctrl, hwaddr addr, hwaddr len, bool to_guest)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(ctrl));

    if (len == 0 || addr + len < addr) {
        return len == 0;
    }
    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, plen = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &plen,
                                                   to_guest,
                                                   MEMTXATTRS_UNSPECIFIED);
        if (!memory_access_is_direct(mr, to_guest, MEMTXATTRS_UNSPECIFIED) ||
            memory_region_is_ram_device(mr) || plen == 0) {
            return false;
        }
        addr += plen;
        len -= plen;
    }
    return true;
}

bool nvme_dma_read(NvmeCtrl *ctrl, hwaddr addr, void *buf, hwaddr len)
{
    return nvme_addr_is_ram(ctrl, addr, len, false) &&
           pci_dma_read(PCI_DEVICE(ctrl), addr, buf, len) == MEMTX_OK;
}

bool nvme_dma_write(NvmeCtrl *ctrl, hwaddr addr, const void *buf, hwaddr len)
{
    return nvme_addr_is_ram(ctrl, addr, len, true) &&
           pci_dma_write(PCI_DEVICE(ctrl), addr, buf, len) == MEMTX_OK;
}

/* ---- mapping -------------------------------------------------------------- */

static uint16_t nvme_transfer_error(hwaddr addr, hwaddr len)
{
    trace_nvme_err_dma_addr(addr, len);
    return nvme_status(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR, true);
}

/*
 * Map [addr, addr+len) and append it to req->iov. Only directly accessible
 * RAM is mapped: anything else would be bounced by address_space_map(),
 * reading MMIO (possibly our own registers) or writing into ROM.
 */
static uint16_t nvme_map_add(NvmeCtrl *ctrl, NvmeRequest *req, hwaddr addr,
                             hwaddr len)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(ctrl));
    MemTxAttrs attrs = MEMTXATTRS_UNSPECIFIED;
    bool to_guest = req->iov_to_guest;

    if (addr + len < addr) {
        return nvme_transfer_error(addr, len);
    }
    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, plen = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &plen,
                                                   to_guest, attrs);
        struct iovec *last;
        void *p;

        if (!memory_access_is_direct(mr, to_guest, attrs) ||
            memory_region_is_ram_device(mr) || plen == 0) {
            return nvme_transfer_error(addr, len);
        }
        /* direct RAM: mapped in place, never bounced (we hold the BQL) */
        p = address_space_map(as, addr, &plen, to_guest, attrs);
        if (!p || plen == 0) {
            return nvme_transfer_error(addr, len);
        }
        last = req->iov.niov ? &req->iov.iov[req->iov.niov - 1] : NULL;
        if (last && mr == req->iov_last_mr &&
            (uint8_t *)last->iov_base + last->iov_len == p) {
            /* contiguous in the same region: one entry, one reference */
            address_space_unmap(as, p, plen, to_guest, 0);
            last->iov_len += plen;
            req->iov.size += plen;
        } else {
            qemu_iovec_add(&req->iov, p, plen);
            req->iov_last_mr = mr;
        }
        addr += plen;
        len -= plen;
    }
    return NVME_OK;
}

void nvme_unmap_data(NvmeCtrl *ctrl, NvmeRequest *req)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(ctrl));

    if (!req->iov_mapped) {
        return;
    }
    for (int i = 0; i < req->iov.niov; i++) {
        struct iovec *v = &req->iov.iov[i];
        /* written memory is marked dirty (TCG code, migration) */
        address_space_unmap(as, v->iov_base, v->iov_len, req->iov_to_guest,
                            req->iov_to_guest ? v->iov_len : 0);
    }
    if (req->iov.nalloc > NVME_IOV_KEEP) {
        qemu_iovec_destroy(&req->iov);
        qemu_iovec_init(&req->iov, 4);
    } else {
        qemu_iovec_reset(&req->iov);
    }
    req->iov_mapped = false;
}

/* ---- data pointers: PRPs and SGLs ----------------------------------------- */

/* base 4.3.1: PRP1, then PRP2 as a page or as a (chained) PRP list */
static uint16_t nvme_map_prp(NvmeCtrl *ctrl, NvmeRequest *req, size_t len)
{
    uint64_t prp1 = le64_to_cpu(req->cmd.dptr.prp1);
    uint64_t prp2 = le64_to_cpu(req->cmd.dptr.prp2);
    uint64_t page = ctrl->page_size;
    size_t first = MIN(len, page - (prp1 & (page - 1)));
    uint64_t list[512];
    uint16_t status;

    status = nvme_map_add(ctrl, req, prp1, first);
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
        return nvme_map_add(ctrl, req, prp2, len);
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
                return nvme_transfer_error(at, n * sizeof(uint64_t));
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
                status = nvme_map_add(ctrl, req, entry, MIN(len, page));
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

/* Where an SGL walk is: bytes still to map, descriptors seen so far */
typedef struct NvmeSglWalk {
    size_t      remaining;
    unsigned    descs;
    NvmeSgl     next;                   /* the segment that follows ... */
    bool        has_next;               /* ... if the last one chained */
} NvmeSglWalk;

/* Walk one run of an SGL segment's descriptors (base 4.3.2). */
static uint16_t nvme_map_sgl_descs(NvmeCtrl *ctrl, NvmeRequest *req,
                                   const NvmeSgl *descs, unsigned count,
                                   bool chain_allowed, NvmeSglWalk *walk)
{
    for (unsigned i = 0; i < count; i++) {
        const NvmeSgl *d = &descs[i];
        uint8_t type = NVME_SGL_TYPE(d->type);
        uint32_t dlen = le32_to_cpu(d->len);
        uint16_t status;

        if (++walk->descs > NVME_SGL_DESC_MAX) {
            return nvme_sgl_error(NVME_SC_INVALID_SGL_COUNT);
        }
        if (NVME_SGL_SUBTYPE(d->type) != 0) {
            return nvme_sgl_error(NVME_SC_SGL_TYPE_INVALID);
        }
        if (type == NVME_SGL_SEGMENT || type == NVME_SGL_LAST_SEGMENT) {
            /* only the last descriptor of a segment may chain (base 4.3.2) */
            if (i != count - 1 || !chain_allowed) {
                return nvme_sgl_error(NVME_SC_INVALID_SGL_SEGMENT);
            }
            walk->next = *d;
            walk->has_next = true;
            return NVME_OK;
        }
        if (type != NVME_SGL_DATA_BLOCK) {
            return nvme_sgl_error(NVME_SC_SGL_TYPE_INVALID);
        }
        if (dlen > walk->remaining) {
            return nvme_sgl_error(NVME_SC_DATA_SGL_LENGTH);
        }
        if (dlen) {
            status = nvme_map_add(ctrl, req, le64_to_cpu(d->addr), dlen);
            if (status) {
                return status;
            }
            walk->remaining -= dlen;
        }
    }
    return NVME_OK;
}

/* base 4.3.2: SGL Data Block, Segment and Last Segment descriptors */
static uint16_t nvme_map_sgl(NvmeCtrl *ctrl, NvmeRequest *req, size_t len)
{
    NvmeSglWalk walk = { .remaining = len };
    NvmeSgl first = req->cmd.dptr.sgl;
    NvmeSgl descs[256];
    uint8_t type = NVME_SGL_TYPE(first.type);
    uint16_t status;

    /* The SQE holds a single descriptor: data, or the first segment. */
    if (type == NVME_SGL_DATA_BLOCK) {
        status = nvme_map_sgl_descs(ctrl, req, &first, 1, false, &walk);
        if (status) {
            return status;
        }
    } else if (type == NVME_SGL_SEGMENT || type == NVME_SGL_LAST_SEGMENT) {
        walk.next = first;
        walk.has_next = true;
    } else {
        return nvme_sgl_error(NVME_SC_SGL_TYPE_INVALID);
    }

    while (walk.has_next) {
        NvmeSgl seg = walk.next;
        uint64_t addr = le64_to_cpu(seg.addr);
        uint32_t seg_len = le32_to_cpu(seg.len);
        bool last = NVME_SGL_TYPE(seg.type) == NVME_SGL_LAST_SEGMENT;

        if (NVME_SGL_SUBTYPE(seg.type) != 0) {
            return nvme_sgl_error(NVME_SC_SGL_TYPE_INVALID);
        }
        if (seg_len == 0 || seg_len % sizeof(NvmeSgl)) {
            return nvme_sgl_error(NVME_SC_INVALID_SGL_SEGMENT);
        }
        walk.has_next = false;
        while (seg_len && !walk.has_next) {
            unsigned count = MIN(seg_len / sizeof(NvmeSgl), ARRAY_SIZE(descs));
            bool ends_here = count * sizeof(NvmeSgl) == seg_len;

            if (!nvme_dma_read(ctrl, addr, descs, count * sizeof(NvmeSgl))) {
                return nvme_transfer_error(addr, count * sizeof(NvmeSgl));
            }
            /* a chaining descriptor is only allowed at the segment's end,
             * and never in a Last Segment */
            status = nvme_map_sgl_descs(ctrl, req, descs, count,
                                        !last && ends_here, &walk);
            if (status) {
                return status;
            }
            addr += count * sizeof(NvmeSgl);
            seg_len -= count * sizeof(NvmeSgl);
        }
    }
    if (walk.remaining) {
        return nvme_sgl_error(NVME_SC_DATA_SGL_LENGTH);
    }
    return NVME_OK;
}

uint16_t nvme_map_data(NvmeCtrl *ctrl, NvmeRequest *req, size_t len,
                       bool to_guest)
{
    uint16_t status;

    if (req->iov_mapped) {
        /* a command maps its data once; never leak an earlier mapping */
        nvme_unmap_data(ctrl, req);
    }
    req->iov_mapped = true;
    req->iov_to_guest = to_guest;
    req->iov_last_mr = NULL;
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
        nvme_unmap_data(ctrl, req);
    }
    return status;
}

uint16_t nvme_copy_to_host(NvmeCtrl *ctrl, NvmeRequest *req, const void *buf,
                           size_t len)
{
    uint16_t status = nvme_map_data(ctrl, req, len, true);

    if (status == NVME_OK) {
        iov_from_buf(req->iov.iov, req->iov.niov, 0, buf, len);
        nvme_unmap_data(ctrl, req);
    }
    return status;
}

uint16_t nvme_copy_from_host(NvmeCtrl *ctrl, NvmeRequest *req, void *buf,
                             size_t len)
{
    uint16_t status = nvme_map_data(ctrl, req, len, false);

    if (status == NVME_OK) {
        iov_to_buf(req->iov.iov, req->iov.niov, 0, buf, len);
        nvme_unmap_data(ctrl, req);
    }
    return status;
}
