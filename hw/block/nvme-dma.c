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

/* ---- guest memory -------------------------------------------------------- */

bool nvme_addr_is_ram(NvmeCtrl *ctrl, hwaddr addr, hwaddr len, bool to_guest)
{
    AddressSpace *as = pci_get_address_space(nvme_pci(ctrl));

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

/*
 * iothread=: the vCPUs may change the memory map between a check and the
 * access, and an access that met MMIO would need the BQL the main loop may
 * hold while it waits for us. So the check and the copy share one
 * translation (a cache holds its memory region): RAM, or nothing.
 */
static bool nvme_dma_rw_ram(NvmeCtrl *ctrl, hwaddr addr, void *buf,
                            hwaddr len, bool to_guest)
{
    AddressSpace *as = pci_get_address_space(nvme_pci(ctrl));
    uint8_t *p = buf;

    if (addr + len < addr) {
        return false;
    }
    while (len) {
        MemoryRegionCache cache;
        int64_t l = address_space_cache_init(&cache, as, addr, len, to_guest);
        bool ok = l > 0 && cache.ptr &&
                  !memory_region_is_ram_device(cache.mrs.mr);

        if (ok && to_guest) {
            address_space_write_cached(&cache, 0, p, l);
        } else if (ok) {
            ok = address_space_read_cached(&cache, 0, p, l) == MEMTX_OK;
        }
        address_space_cache_destroy(&cache);
        if (!ok) {
            return false;
        }
        addr += l;
        p += l;
        len -= l;
    }
    return true;
}

bool nvme_dma_read(NvmeCtrl *ctrl, hwaddr addr, void *buf, hwaddr len)
{
    if (nvme_threaded(ctrl)) {
        return nvme_dma_rw_ram(ctrl, addr, buf, len, false);
    }
    return nvme_addr_is_ram(ctrl, addr, len, false) &&
           pci_dma_read(nvme_pci(ctrl), addr, buf, len) == MEMTX_OK;
}

bool nvme_dma_write(NvmeCtrl *ctrl, hwaddr addr, const void *buf, hwaddr len)
{
    if (nvme_threaded(ctrl)) {
        return nvme_dma_rw_ram(ctrl, addr, (void *)buf, len, true);
    }
    return nvme_addr_is_ram(ctrl, addr, len, true) &&
           pci_dma_write(nvme_pci(ctrl), addr, buf, len) == MEMTX_OK;
}

/* ---- rings: memory accessed again and again ------------------------------ */

void nvme_ring_unmap(NvmeRing *ring)
{
    if (ring->active) {
        address_space_cache_destroy(&ring->cache);
        ring->active = false;
    }
    ring->direct = false;
}

/*
 * The cache keeps a reference to the memory region: RAM unplugged or
 * remapped afterwards is never freed under us, and the memory listener
 * maps the ring again (or stops using the fast path) when the map changes.
 */
void nvme_ring_map(NvmeCtrl *ctrl, NvmeRing *ring)
{
    int64_t len;

    nvme_ring_unmap(ring);
    if (!ring->len) {
        return;
    }
    len = address_space_cache_init(&ring->cache,
                                   pci_get_address_space(nvme_pci(ctrl)),
                                   ring->addr, ring->len, ring->to_guest);
    ring->active = true;
    /* a cache without a host pointer is MMIO, ROM to write, or an IOMMU */
    ring->direct = len >= (int64_t)ring->len && ring->cache.ptr;
}

bool nvme_ring_read(NvmeCtrl *ctrl, NvmeRing *ring, hwaddr off, void *buf,
                    hwaddr len)
{
    if (likely(ring->direct)) {
        return address_space_read_cached(&ring->cache, off, buf, len) ==
               MEMTX_OK;
    }
    return nvme_dma_read(ctrl, ring->addr + off, buf, len);
}

bool nvme_ring_put(NvmeCtrl *ctrl, NvmeRing *ring, hwaddr off,
                   const void *buf, hwaddr len)
{
    if (likely(ring->direct)) {
        address_space_write_cached(&ring->cache, off, buf, len);
        return true;
    }
    return nvme_dma_write(ctrl, ring->addr + off, buf, len);
}

void nvme_ring_dirty(NvmeRing *ring, hwaddr off, hwaddr len)
{
    if (ring->direct && len) {
        address_space_cache_invalidate(&ring->cache, off, len);
    }
}

bool nvme_ring_write(NvmeCtrl *ctrl, NvmeRing *ring, hwaddr off,
                     const void *buf, hwaddr len)
{
    if (!nvme_ring_put(ctrl, ring, off, buf, len)) {
        return false;
    }
    nvme_ring_dirty(ring, off, len);
    return true;
}

/* ---- mapping ------------------------------------------------------------- */

static uint16_t nvme_transfer_error(hwaddr addr, hwaddr len)
{
    trace_pci_nvme_err_dma_addr(addr, len);
    return nvme_status(NVME_SCT_GENERIC, NVME_SC_DATA_TRANSFER_ERROR, true);
}

/*
 * The RAM window: one mapping of the guest RAM section data pointers
 * usually land in (a MemoryRegionCache over all of it), so that a page
 * costs a range check instead of a translation, a reference and, at the
 * end, a lookup. It stays valid while the memory map does; a change drops
 * it, and a request that still uses it keeps it alive until it completes.
 */
struct NvmeRamWindow {
    MemoryRegionCache cache;
    hwaddr      start;
    hwaddr      len;
    unsigned    refs;                   /* the controller's + requests' */
};

static void nvme_window_unref(NvmeRamWindow *win)
{
    if (--win->refs == 0) {
        address_space_cache_destroy(&win->cache);
        g_free(win);
    }
}

void nvme_window_drop(NvmeCtrl *ctrl)
{
    for (unsigned i = 0; i < NVME_RAM_WINDOWS; i++) {
        if (ctrl->ram_windows[i]) {
            nvme_window_unref(ctrl->ram_windows[i]);
            ctrl->ram_windows[i] = NULL;
        }
    }
}

/*
 * Map guest RAM from @addr to the end of its flat range (the part of one
 * RAM region the memory map shows linearly) as a window, or NULL.
 */
static NvmeRamWindow *nvme_window_open(NvmeCtrl *ctrl, hwaddr addr)
{
    AddressSpace *as = pci_get_address_space(nvme_pci(ctrl));
    MemoryRegionSection sec = memory_region_find(as->root, addr,
                                                 UINT64_MAX - addr);
    NvmeRamWindow *win = NULL;
    hwaddr len;

    if (!sec.mr) {
        return NULL;
    }
    len = int128_get64(sec.size);
    if (sec.offset_within_address_space == addr &&
        memory_region_is_ram(sec.mr) && !memory_region_is_ram_device(sec.mr) &&
        !sec.mr->readonly && len) {
        win = g_new0(NvmeRamWindow, 1);
        win->start = addr;
        win->len = len;
        win->refs = 1;
        /* writable RAM, mapped whole, or no window at all */
        if (address_space_cache_init(&win->cache, as, win->start, len, true) <
                (int64_t)len || !win->cache.ptr) {
            address_space_cache_destroy(&win->cache);
            g_free(win);
            win = NULL;
        }
    }
    memory_region_unref(sec.mr);
    return win;
}

static bool nvme_window_covers(NvmeRamWindow *win, hwaddr addr, hwaddr len)
{
    return addr >= win->start && len <= win->len &&
           addr - win->start <= win->len - len;
}

/*
 * The controller's window covering [addr, addr+len), opened if needed. A
 * window opened below others of the same flat range covers them: they go
 * (requests using them keep them until they complete).
 */
static NvmeRamWindow *nvme_window_find(NvmeCtrl *ctrl, hwaddr addr,
                                       hwaddr len)
{
    NvmeRamWindow *win;
    unsigned free_slot = 0;

    for (unsigned i = 0; i < NVME_RAM_WINDOWS; i++) {
        win = ctrl->ram_windows[i];
        if (win && nvme_window_covers(win, addr, len)) {
            return win;
        }
    }
    win = nvme_window_open(ctrl, addr);
    if (!win || !nvme_window_covers(win, addr, len)) {
        if (win) {
            nvme_window_unref(win);
        }
        return NULL;
    }
    for (unsigned i = 0; i < NVME_RAM_WINDOWS; i++) {
        NvmeRamWindow *old = ctrl->ram_windows[i];

        if (old && old->start >= win->start &&
            old->start + old->len == win->start + win->len) {
            nvme_window_unref(old);
            ctrl->ram_windows[i] = NULL;
        }
        if (!ctrl->ram_windows[i]) {
            free_slot = i;
        }
    }
    if (ctrl->ram_windows[free_slot]) {
        nvme_window_unref(ctrl->ram_windows[free_slot]);
    }
    ctrl->ram_windows[free_slot] = win;
    return win;
}

/* A host pointer to [addr, addr+len) through a RAM window, or NULL */
static inline void *nvme_window_ptr(NvmeCtrl *ctrl, NvmeRequest *req,
                                    hwaddr addr, hwaddr len)
{
    NvmeRamWindow *win = req->window;

    if (!win) {
        win = nvme_window_find(ctrl, addr, len);
        if (!win) {
            return NULL;
        }
        req->window = win;
        win->refs++;
    } else if (!nvme_window_covers(win, addr, len)) {
        return NULL;            /* a request holds one window at most */
    }
    return (uint8_t *)win->cache.ptr + (addr - win->start);
}

static bool nvme_window_holds(NvmeRamWindow *win, void *p)
{
    return win && (uint8_t *)p >= (uint8_t *)win->cache.ptr &&
           (uint8_t *)p < (uint8_t *)win->cache.ptr + win->len;
}

/* Does memory at @p of region @mr continue req->iov's last entry? */
static bool nvme_iov_extends(NvmeRequest *req, void *p, MemoryRegion *mr)
{
    struct iovec *last;

    if (!req->iov.niov || mr != req->iov_last_mr) {
        return false;
    }
    last = &req->iov.iov[req->iov.niov - 1];
    return (uint8_t *)last->iov_base + last->iov_len == p;
}

static inline void nvme_iov_append(NvmeRequest *req, void *p, hwaddr len,
                                   MemoryRegion *mr)
{
    if (nvme_iov_extends(req, p, mr)) {
        req->iov.iov[req->iov.niov - 1].iov_len += len;
        req->iov.size += len;
    } else {
        qemu_iovec_add(&req->iov, p, len);
        req->iov_last_mr = mr;
    }
}

/*
 * Map [addr, addr+len) and append it to req->iov. Only directly accessible
 * RAM is mapped: anything else would be bounced by address_space_map(),
 * reading MMIO (possibly our own registers) or writing into ROM.
 */
static uint16_t nvme_map_add(NvmeCtrl *ctrl, NvmeRequest *req, hwaddr addr,
                             hwaddr len)
{
    AddressSpace *as = pci_get_address_space(nvme_pci(ctrl));
    MemTxAttrs attrs = MEMTXATTRS_UNSPECIFIED;
    bool to_guest = req->iov_to_guest;
    void *p;

    if (addr + len < addr) {
        return nvme_transfer_error(addr, len);
    }
    p = nvme_window_ptr(ctrl, req, addr, len);
    if (p) {
        /* window entries merge among themselves (region: the window) */
        nvme_iov_append(req, p, len, (MemoryRegion *)req->window);
        return NVME_OK;
    }
    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, plen = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &plen,
                                                   to_guest, attrs);

        if (!memory_access_is_direct(mr, to_guest, attrs) ||
            memory_region_is_ram_device(mr) || plen == 0) {
            return nvme_transfer_error(addr, len);
        }
        if (nvme_threaded(ctrl)) {
            /*
             * iothread=: mapped in place from the region just checked, not
             * by address_space_map(), which translates again: the vCPUs
             * may have changed the map meanwhile, and it would bounce
             * MMIO under a BQL a vCPU holds. (Xen is refused there.) The
             * reference is address_space_unmap()'s to drop.
             */
            memory_region_ref(mr);
            p = (uint8_t *)memory_region_get_ram_ptr(mr) + xlat;
        } else {
            /* direct RAM: mapped in place, never bounced (we hold the BQL) */
            p = address_space_map(as, addr, &plen, to_guest, attrs);
            if (!p || plen == 0) {
                return nvme_transfer_error(addr, len);
            }
        }
        if (nvme_iov_extends(req, p, mr)) {
            /* contiguous in the same region: one entry, one reference */
            address_space_unmap(as, p, plen, to_guest, 0);
        }
        nvme_iov_append(req, p, plen, mr);
        addr += plen;
        len -= plen;
    }
    return NVME_OK;
}

void nvme_unmap_data(NvmeCtrl *ctrl, NvmeRequest *req)
{
    AddressSpace *as = pci_get_address_space(nvme_pci(ctrl));
    NvmeRamWindow *win = req->window;

    if (!req->iov_mapped) {
        return;
    }
    for (int i = 0; i < req->iov.niov; i++) {
        struct iovec *v = &req->iov.iov[i];

        /* written memory is marked dirty (TCG code, migration) */
        if (nvme_window_holds(win, v->iov_base)) {
            if (req->iov_to_guest) {
                address_space_cache_invalidate(&win->cache,
                    (uint8_t *)v->iov_base - (uint8_t *)win->cache.ptr,
                    v->iov_len);
            }
        } else {
            address_space_unmap(as, v->iov_base, v->iov_len,
                                req->iov_to_guest,
                                req->iov_to_guest ? v->iov_len : 0);
        }
    }
    if (win) {
        nvme_window_unref(win);
        req->window = NULL;
    }
    if (req->iov.nalloc > NVME_IOV_KEEP) {
        qemu_iovec_destroy(&req->iov);
        qemu_iovec_init(&req->iov, 4);
    } else {
        qemu_iovec_reset(&req->iov);
    }
    req->iov_mapped = false;
}

/* ---- data pointers: PRPs and SGLs ---------------------------------------- */

/* base 4.3.1: the PRP list at @prp2 for the @len bytes after PRP1's page */
static uint16_t nvme_map_prp_list(NvmeCtrl *ctrl, NvmeRequest *req,
                                  uint64_t prp2, size_t len)
{
    uint64_t page = ctrl->page_size;
    uint64_t list[64];
    hwaddr run = 0, run_len = 0;        /* pages contiguous in guest memory */
    uint16_t status;

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
                if (run_len && entry == run + run_len) {
                    run_len += MIN(len, page);      /* one mapping for a run */
                } else {
                    status = run_len ? nvme_map_add(ctrl, req, run, run_len)
                                     : NVME_OK;
                    if (status) {
                        return status;
                    }
                    run = entry;
                    run_len = MIN(len, page);
                }
                len -= MIN(len, page);
            }
            done += n;
        }
    }
    return run_len ? nvme_map_add(ctrl, req, run, run_len) : NVME_OK;
}

/* base 4.3.1: PRP1, then PRP2 as a page or as a (chained) PRP list */
static uint16_t nvme_map_prp(NvmeCtrl *ctrl, NvmeRequest *req, size_t len)
{
    uint64_t prp1 = le64_to_cpu(req->cmd.dptr.prp1);
    uint64_t prp2 = le64_to_cpu(req->cmd.dptr.prp2);
    uint64_t page = ctrl->page_size;
    size_t first = MIN(len, page - (prp1 & (page - 1)));
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
    return nvme_map_prp_list(ctrl, req, prp2, len);
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
    NvmeSgl descs[64];              /* a segment is read in pieces */
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
            /*
             * a chaining descriptor is only allowed at the segment's end,
             * and never in a Last Segment
             */
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
        req->error_loc = NVME_ERR_LOC(dptr, 0);
        trace_pci_nvme_err_map(nvme_cid(req), status);
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
