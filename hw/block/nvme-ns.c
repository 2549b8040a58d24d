/*
 * NVMe namespace device (nvme-ns): properties, backend, LBA formats and the
 * Identify Namespace data (NVM Command Set 1.0, 4.1.5; Base 2.0, 5.17.2).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/bitmap.h"
#include "hw/qdev-properties.h"
#include "qapi/visitor.h"
#include "hw/qdev-properties-system.h"
#include "system/block-backend.h"
#include "nvme.h"
#include "nvme-pool.h"
#include "nvme-fault.h"
#include "trace.h"

/* Bytes the namespace holds: its drive, or its range of the pool */
static int64_t nvme_ns_capacity(NvmeNamespace *ns)
{
    return ns->pool_blk ? ns->pool_size : blk_getlength(nvme_ns_blk(ns));
}

bool nvme_ns_lbaf_valid(NvmeNamespace *ns, unsigned lbaf)
{
    int64_t size = nvme_ns_capacity(ns);

    return lbaf < NVME_NS_NUM_LBAF && size >= (1ll << nvme_lbaf_lbads(lbaf));
}

/* ---- Write Uncorrectable's marks ---------------------------------------- */

static int nvme_u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static unsigned long *nvme_ns_uncorr_chunk(NvmeNamespace *ns, uint64_t idx)
{
    return ns->uncorr ? g_hash_table_lookup(ns->uncorr, &idx) : NULL;
}

/*
 * Call @fn on each existing chunk that [slba, slba + nlb) touches, with the
 * part of the range inside it (first bit, number of bits). A range over
 * more chunks than exist walks the table instead of the range.
 */
typedef bool (*NvmeUncorrFn)(NvmeNamespace *ns, uint64_t idx,
                             unsigned long *bits, unsigned first,
                             unsigned nr, void *opaque);

static bool nvme_ns_uncorr_walk(NvmeNamespace *ns, uint64_t slba,
                                uint64_t nlb, NvmeUncorrFn fn, void *opaque)
{
    uint64_t first = slba / NVME_NS_UNCORR_CHUNK;
    uint64_t last = (slba + nlb - 1) / NVME_NS_UNCORR_CHUNK;
    g_autofree uint64_t *idxs = NULL;
    guint nr_idx = 0;

    if (!ns->uncorr || !nlb || !g_hash_table_size(ns->uncorr)) {
        return false;
    }
    if (last - first >= g_hash_table_size(ns->uncorr)) {
        /* the table's keys, sorted, so that "first marked" means lowest */
        GList *keys = g_hash_table_get_keys(ns->uncorr);

        idxs = g_new(uint64_t, g_hash_table_size(ns->uncorr));
        for (GList *k = keys; k; k = k->next) {
            uint64_t idx = *(uint64_t *)k->data;

            if (idx >= first && idx <= last) {
                idxs[nr_idx++] = idx;
            }
        }
        g_list_free(keys);
        qsort(idxs, nr_idx, sizeof(*idxs), nvme_u64_cmp);
    }
    for (uint64_t i = 0; idxs ? i < nr_idx : first + i <= last; i++) {
        uint64_t idx = idxs ? idxs[i] : first + i;
        uint64_t start = MAX(slba, idx * NVME_NS_UNCORR_CHUNK);
        uint64_t end = MIN(slba + nlb, (idx + 1) * NVME_NS_UNCORR_CHUNK);
        unsigned long *bits = nvme_ns_uncorr_chunk(ns, idx);

        if (bits && fn(ns, idx, bits, start % NVME_NS_UNCORR_CHUNK,
                       end - start, opaque)) {
            return true;
        }
    }
    return false;
}

bool nvme_ns_uncorr_mark(NvmeNamespace *ns, uint64_t slba, uint64_t nlb)
{
    uint64_t first = slba / NVME_NS_UNCORR_CHUNK;
    uint64_t last = (slba + nlb - 1) / NVME_NS_UNCORR_CHUNK;
    uint64_t missing = 0;

    if (!nlb) {
        return true;
    }
    if (last - first >= NVME_NS_UNCORR_MAX) {
        return false;
    }
    for (uint64_t idx = first; idx <= last; idx++) {
        missing += !nvme_ns_uncorr_chunk(ns, idx);
    }
    if ((ns->uncorr ? g_hash_table_size(ns->uncorr) : 0) + missing >
        NVME_NS_UNCORR_MAX) {
        return false;
    }
    if (!ns->uncorr) {
        ns->uncorr = g_hash_table_new_full(g_int64_hash, g_int64_equal,
                                           g_free, g_free);
    }
    for (uint64_t idx = first; idx <= last; idx++) {
        uint64_t start = MAX(slba, idx * NVME_NS_UNCORR_CHUNK);
        uint64_t end = MIN(slba + nlb, (idx + 1) * NVME_NS_UNCORR_CHUNK);
        unsigned long *bits = nvme_ns_uncorr_chunk(ns, idx);

        if (!bits) {
            bits = bitmap_new(NVME_NS_UNCORR_CHUNK);
            g_hash_table_insert(ns->uncorr, g_memdup2(&idx, sizeof(idx)),
                                bits);
        }
        bitmap_set(bits, start % NVME_NS_UNCORR_CHUNK, end - start);
    }
    return true;
}

static bool nvme_ns_uncorr_clear_bits(NvmeNamespace *ns, uint64_t idx,
                                      unsigned long *bits, unsigned first,
                                      unsigned nr, void *opaque)
{
    bitmap_clear(bits, first, nr);
    if (bitmap_empty(bits, NVME_NS_UNCORR_CHUNK)) {
        g_hash_table_remove(ns->uncorr, &idx);
    }
    return false;
}

void nvme_ns_uncorr_clear_range(NvmeNamespace *ns, uint64_t slba,
                                uint64_t nlb)
{
    nvme_ns_uncorr_walk(ns, slba, nlb, nvme_ns_uncorr_clear_bits, NULL);
    if (ns->uncorr && !g_hash_table_size(ns->uncorr)) {
        g_clear_pointer(&ns->uncorr, g_hash_table_destroy);
    }
}

void nvme_ns_uncorr_clear_all(NvmeNamespace *ns)
{
    g_clear_pointer(&ns->uncorr, g_hash_table_destroy);
}

static bool nvme_ns_uncorr_find_bit(NvmeNamespace *ns, uint64_t idx,
                                    unsigned long *bits, unsigned first,
                                    unsigned nr, void *opaque)
{
    unsigned long bit = find_next_bit(bits, first + nr, first);

    if (bit >= first + nr) {
        return false;
    }
    *(uint64_t *)opaque = idx * NVME_NS_UNCORR_CHUNK + bit;
    return true;
}

bool nvme_ns_uncorr_find_range(NvmeNamespace *ns, uint64_t slba,
                               uint64_t nlb, uint64_t *lba)
{
    return nvme_ns_uncorr_walk(ns, slba, nlb, nvme_ns_uncorr_find_bit, lba);
}

bool nvme_ns_set_format(NvmeNamespace *ns, unsigned lbaf)
{
    int64_t size = nvme_ns_capacity(ns);

    if (!nvme_ns_lbaf_valid(ns, lbaf) || size < 0) {
        return false;
    }
    ns->lbaf = lbaf;
    ns->lbads = nvme_lbaf_lbads(lbaf);
    ns->lbasz = 1u << ns->lbads;
    ns->nlbas = size >> ns->lbads;
    nvme_pool_format_changed(ns);
    return true;
}

static bool nvme_ns_parse_nguid(NvmeNamespace *ns, Error **errp)
{
    const char *p = ns->nguid_str;
    unsigned n = 0;

    if (!p) {
        return true;
    }
    /* 32 hex digits, optionally grouped with '-' */
    for (; *p; p++) {
        int hi, lo;
        if (*p == '-') {
            continue;
        }
        hi = g_ascii_xdigit_value(p[0]);
        lo = p[1] ? g_ascii_xdigit_value(p[1]) : -1;
        if (hi < 0 || lo < 0 || n == sizeof(ns->nguid)) {
            break;
        }
        ns->nguid[n++] = hi << 4 | lo;
        p++;
    }
    if (*p || n != sizeof(ns->nguid)) {
        error_setg(errp, "nvme-ns: 'nguid' must be 32 hexadecimal digits "
                   "(dashes allowed), e.g. 00112233-4455-6677-8899-aabbccddeeff");
        return false;
    }
    return true;
}

bool nvme_ns_setup(NvmeNamespace *ns, Error **errp)
{
    BlockBackend *blk = nvme_ns_blk(ns);
    uint32_t lbs;

    if (ns->pool_blk) {
        /* carved from the pool by nvme-pool.c, which checked its fields */
        blk_iostatus_enable(blk);
        if (!nvme_ns_set_format(ns, ns->lbaf)) {
            error_setg(errp, "nvme-ns: pool namespace %u is smaller than one "
                       "logical block", ns->nsid);
            return false;
        }
        return true;
    }
    if (!blk) {
        error_setg(errp, "nvme-ns: 'drive' is required");
        return false;
    }
    if (!blkconf_blocksizes(&ns->blkconf, errp)) {
        return false;
    }
    lbs = ns->blkconf.logical_block_size;
    if (lbs != 512 && lbs != 4096) {
        error_setg(errp, "nvme-ns: 'logical_block_size' must be 512 or 4096");
        return false;
    }
    ns->read_only = !blk_supports_write_perm(blk);
    if (!blkconf_apply_backend_options(&ns->blkconf, ns->read_only, false,
                                       errp)) {
        return false;
    }
    /* rerror/werror=stop records the error in the backend's I/O status */
    blk_iostatus_enable(blk);
    if (!nvme_ns_parse_nguid(ns, errp)) {
        return false;
    }
    if (!nvme_ns_set_format(ns, lbs == 4096 ? 1 : 0)) {
        error_setg(errp, "nvme-ns: drive '%s' is smaller than one logical "
                   "block (%u bytes)", blk_name(blk), lbs);
        return false;
    }
    return true;
}

/* RESCAP: every type; PTPL where the pool keeps reservations (nvme-resv.c) */
static uint8_t nvme_ns_rescap(NvmeNamespace *ns)
{
    return NVME_RESCAP_TYPES | NVME_RESCAP_IEKEY |
           (ns->pool_blk ? NVME_RESCAP_PTPL : 0);
}

/* NSATTR bit 0, write protected: a read-only drive, or an injected fault */
static uint8_t nvme_ns_nsattr(NvmeNamespace *ns)
{
    return ns->read_only || nvme_fault_ns_wp(ns) ? 1 : 0;
}

void nvme_ns_identify(NvmeNamespace *ns, NvmeIdNs *id)
{
    memset(id, 0, sizeof(*id));
    id->nsze = cpu_to_le64(ns->nlbas);
    id->ncap = cpu_to_le64(ns->nlbas);
    id->nuse = cpu_to_le64(ns->nlbas);
    id->nlbaf = NVME_NS_NUM_LBAF - 1;
    id->flbas = ns->lbaf;
    id->nmic = ns->subsys ? NVME_NMIC_SHARED : 0;
    id->rescap = nvme_ns_rescap(ns);
    /* Deallocated blocks read as zeroes; Write Zeroes honours DEAC. */
    id->dlfeat = NVME_DLFEAT_READ_ZEROES | NVME_DLFEAT_WZ_DEAC;
    id->anagrpid = cpu_to_le32(ns->ana_grpid);
    id->nsattr = nvme_ns_nsattr(ns);
    memcpy(id->nguid, ns->nguid, sizeof(id->nguid));
    stq_be_p(id->eui64, ns->eui64);
    for (unsigned i = 0; i < NVME_NS_NUM_LBAF; i++) {
        id->lbaf[i].lbads = nvme_lbaf_lbads(i);
    }
    /* Copy's limits (nvm 3.3.1), in logical blocks and ranges */
    id->mssrl = cpu_to_le16(NVME_COPY_MSSRL);
    id->mcl = cpu_to_le32(NVME_COPY_MCL);
    id->msrc = NVME_COPY_MSRC - 1;              /* 0's based */
    /* Capacity in bytes, 128-bit little-endian */
    stq_le_p(id->nvmcap, nvme_ns_bytes(ns, ns->nlbas));
}

void nvme_ns_identify_indep(NvmeNamespace *ns, NvmeIdNsIndep *id)
{
    memset(id, 0, sizeof(*id));
    id->nmic = ns->subsys ? NVME_NMIC_SHARED : 0;
    id->rescap = nvme_ns_rescap(ns);
    id->anagrpid = cpu_to_le32(ns->ana_grpid);
    id->nsattr = nvme_ns_nsattr(ns);
    id->nstat = nvme_ns_formatting(ns) ? 0 : NVME_NSTAT_READY;
}

static uint8_t *nvme_ns_put_desc(uint8_t *p, uint8_t type, uint8_t len,
                                 const void *value)
{
    NvmeNsIdDesc hdr = { .nidt = type, .nidl = len };

    memcpy(p, &hdr, sizeof(hdr));
    memcpy(p + sizeof(hdr), value, len);
    return p + sizeof(hdr) + len;
}

void nvme_ns_id_descriptors(NvmeNamespace *ns, uint8_t *buf)
{
    static const uint8_t zero[16];
    uint8_t *p = buf;
    uint8_t eui64[8], csi = NVME_CSI_NVM;

    memset(buf, 0, NVME_IDENTIFY_SIZE);
    stq_be_p(eui64, ns->eui64);
    if (ns->eui64) {
        p = nvme_ns_put_desc(p, NVME_NIDT_EUI64, NVME_NIDL_EUI64, eui64);
    }
    if (memcmp(ns->nguid, zero, sizeof(ns->nguid))) {
        p = nvme_ns_put_desc(p, NVME_NIDT_NGUID, NVME_NIDL_NGUID, ns->nguid);
    }
    if (!qemu_uuid_is_null(&ns->uuid)) {
        p = nvme_ns_put_desc(p, NVME_NIDT_UUID, NVME_NIDL_UUID,
                             ns->uuid.data);
    }
    nvme_ns_put_desc(p, NVME_NIDT_CSI, NVME_NIDL_CSI, &csi);
}

/*
 * subsys= makes the namespace shared: it moves to the subsystem's bus, so
 * that it outlives any one controller, whatever bus it was created on
 * (QEMU picks one when bus= is absent). Otherwise the controller whose bus
 * it is on owns it (private).
 */
static NvmeSubsystem *nvme_ns_place(NvmeNamespace *ns, Error **errp)
{
    DeviceState *dev = DEVICE(ns);
    BusState *bus = qdev_get_parent_bus(dev);

    if (ns->pool_subsys && !ns->subsys) {
        return ns->pool_subsys;     /* a private pool namespace, no owner */
    }
    if (ns->subsys) {
        if (!qdev_set_parent_bus(dev, BUS(&ns->subsys->bus), errp)) {
            return NULL;
        }
        return ns->subsys;
    }
    if (!bus || !object_dynamic_cast(OBJECT(bus->parent), TYPE_NVME)) {
        error_setg(errp, "nvme-ns: put a private namespace on a controller "
                   "with 'bus=<nvme id>', or share it with 'subsys=<id>'");
        return NULL;
    }
    ns->owner = NVME(bus->parent);
    return ns->owner->subsys;
}

/* iothread=: the drive goes back to the main loop with the namespace */
static void nvme_ns_unplace_blk(NvmeNamespace *ns)
{
    BlockBackend *blk = nvme_ns_blk(ns);

    if (blk && blk_get_aio_context(blk) != qemu_get_aio_context()) {
        blk_set_aio_context(blk, qemu_get_aio_context(), NULL);
    }
}

static void nvme_ns_realize(DeviceState *dev, Error **errp)
{
    NvmeNamespace *ns = NVME_NS(dev);
    NvmeSubsystem *subsys = nvme_ns_place(ns, errp);
    bool added;

    if (!subsys) {
        return;
    }
    if (ns->nsid > NVME_MAX_NAMESPACES) {
        error_setg(errp, "nvme-ns: 'nsid' %u is over the maximum, %u: choose "
                   "one from 1 to %u", ns->nsid, NVME_MAX_NAMESPACES,
                   NVME_MAX_NAMESPACES);
        return;
    }
    if (ns->nsid == 0) {
        ns->nsid = nvme_subsys_free_nsid(subsys);
        if (!ns->nsid) {
            error_setg(errp, "nvme-ns: subsystem '%s' has no free nsid "
                       "(maximum %u namespaces)", subsys->subnqn,
                       NVME_MAX_NAMESPACES);
            return;
        }
    }
    if (nvme_subsys_ns(subsys, ns->nsid)) {
        /* checked before the backend is touched, so nothing changes */
        nvme_subsys_add_ns(subsys, ns, errp);
        return;
    }
    if (!nvme_ana_ns_setup(ns, subsys, errp) || !nvme_ns_setup(ns, errp) ||
        !nvme_subsys_place_blk(subsys, nvme_ns_blk(ns), errp)) {
        return;
    }
    nvme_subsys_pause(subsys);
    added = nvme_subsys_add_ns(subsys, ns, errp);
    nvme_subsys_resume(subsys);
    if (!added) {
        nvme_ns_unplace_blk(ns);
        return;
    }
    ns->registered = subsys;
}

/*
 * Detach the namespace everywhere first (no new command reaches it), then
 * end the commands that still use it and wait for their AIO: a request
 * never outlives its namespace.
 */
static void nvme_ns_unrealize(DeviceState *dev)
{
    NvmeNamespace *ns = NVME_NS(dev);
    NvmeSubsystem *subsys = ns->registered;

    if (subsys) {
        nvme_subsys_pause(subsys);
        nvme_subsys_remove_ns(subsys, ns);   /* notifies hosts */
        ns->registered = NULL;
        nvme_subsys_resume(subsys);
        nvme_ns_quiesce(subsys, ns);
    }
    if (ns->blkconf.blk) {
        blk_drain(ns->blkconf.blk);
        blk_flush(ns->blkconf.blk);
        nvme_ns_unplace_blk(ns);
    }
    if (ns->borrowed_blk) {
        /* the controller's drive property detaches it, not ours */
        ns->blkconf.blk = NULL;
    }
    g_clear_pointer(&ns->uncorr, g_hash_table_destroy);
    g_clear_pointer(&ns->resv.regs, g_free);
    ns->resv.nr_regs = 0;
}

/*
 * nsid: absent means "the lowest free one" (realize picks it). The field's
 * 0 stands for that, so 0 given explicitly is refused here, where it is set,
 * and there is no default value that would run this setter at creation.
 */
static void nvme_ns_set_nsid(Object *obj, Visitor *v, const char *name,
                             void *opaque, Error **errp)
{
    const Property *prop = opaque;
    uint32_t *nsid = object_field_prop_ptr(obj, prop);
    uint32_t value;

    if (!visit_type_uint32(v, name, &value, errp)) {
        return;
    }
    if (value == 0) {
        error_setg(errp, "nvme-ns: 'nsid' 0 is not a namespace ID: give one "
                   "from 1 to %u, or leave nsid out for the lowest free one",
                   NVME_MAX_NAMESPACES);
        return;
    }
    *nsid = value;
}

static void nvme_ns_get_nsid(Object *obj, Visitor *v, const char *name,
                             void *opaque, Error **errp)
{
    const Property *prop = opaque;
    uint32_t *nsid = object_field_prop_ptr(obj, prop);

    visit_type_uint32(v, name, nsid, errp);
}

static const PropertyInfo nvme_ns_prop_nsid = {
    .type = "uint32",
    .description = "namespace ID, 1-1024 (absent: the lowest free one)",
    .get = nvme_ns_get_nsid,
    .set = nvme_ns_set_nsid,
};

static const Property nvme_ns_props[] = {
    DEFINE_BLOCK_PROPERTIES(NvmeNamespace, blkconf),
    /* without them the backend's -drive rerror=/werror= would be replaced */
    DEFINE_BLOCK_ERROR_PROPERTIES(NvmeNamespace, blkconf),
    DEFINE_PROP_UNSIGNED_NODEFAULT("nsid", NvmeNamespace, nsid,
                                   nvme_ns_prop_nsid, uint32_t),
    DEFINE_PROP_UUID("uuid", NvmeNamespace, uuid),
    DEFINE_PROP_UINT64("eui64", NvmeNamespace, eui64, 0),
    DEFINE_PROP_STRING("nguid", NvmeNamespace, nguid_str),
    DEFINE_PROP_LINK("subsys", NvmeNamespace, subsys, TYPE_NVME_SUBSYS,
                     NvmeSubsystem *),
    DEFINE_PROP_BOOL("detached", NvmeNamespace, detached, false),
    DEFINE_PROP_UINT32("ana.grpid", NvmeNamespace, ana_grpid, 0),
};

static void nvme_ns_class_init(ObjectClass *oc, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(oc);

    dc->desc = "NVMe namespace";
    dc->bus_type = TYPE_NVME_BUS;
    dc->realize = nvme_ns_realize;
    dc->unrealize = nvme_ns_unrealize;
    set_bit(DEVICE_CATEGORY_STORAGE, dc->categories);
    device_class_set_props(dc, nvme_ns_props);
    object_class_property_set_description(oc, "uuid",
        "UUID namespace identifier (default: generated)");
    object_class_property_set_description(oc, "eui64",
        "IEEE Extended Unique Identifier, as a 64-bit number (0: none)");
    object_class_property_set_description(oc, "nguid",
        "Namespace Globally Unique Identifier, 32 hex digits (absent: none)");
    object_class_property_set_description(oc, "subsys",
        "Share the namespace: attach it to every controller of this "
        "nvme-subsys (then 'bus' is not needed)");
    object_class_property_set_description(oc, "detached",
        "Start unattached; a host attaches it with Namespace Attachment");
    object_class_property_set_description(oc, "ana.grpid",
        "ANA group id, 1-128 (default 1); needs ana=true on the nvme-subsys");
}

static const TypeInfo nvme_ns_types[] = {
    {
        .name = TYPE_NVME_NS,
        .parent = TYPE_DEVICE,
        .instance_size = sizeof(NvmeNamespace),
        .class_init = nvme_ns_class_init,
    },
};

DEFINE_TYPES(nvme_ns_types)
