/*
 * qtests of the capacity pool (nvme-subsys pool=<drive>) and Namespace
 * Management (Base 2.0, 5.20): create and delete with the statuses the
 * specification names, TNVMCAP/UNVMCAP, attachment of created namespaces
 * beside command-line ones, private and ANA-grouped ones, the table that
 * keeps namespaces, attachments, formats and data across a restart, and
 * deletion with I/O in flight.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "libqtest.h"
#include "libqos/nvme.h"

#define PL_INVALID  QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_FIELD)
#define PL_NSID     QNVME_ST_DNR(NVME_SCT_GENERIC, NVME_SC_INVALID_NSID)
#define PL_CS(sc)   QNVME_ST_DNR(NVME_SCT_CMD_SPECIFIC, (sc))

#define PL_POOL_SIZE    (64 * MiB)
#define PL_USABLE       (63 * MiB)      /* the first MiB holds the table */

/* Two controllers in s0 with the pool on @pool_path; nsid 1 from the line */
#define PL_DEVS(ana) \
    "-drive if=none,id=pool,file=%s,format=raw " \
    "-device nvme-subsys,id=s0,pool=pool" ana " " \
    "-device nvme,id=c0," QNVME_ADDR ",serial=pl-a,subsys=s0 " \
    "-device nvme,id=c1," QNVME_ADDR2 ",serial=pl-b,subsys=s0 " \
    "-device nvme-ns,drive=d0,nsid=1,subsys=s0"

typedef struct PlCreate {
    uint64_t nsze;
    uint64_t ncap;          /* 0: NSZE */
    uint8_t  flbas;
    uint8_t  nmic;
    uint8_t  dps;
    uint32_t anagrpid;
    uint32_t csi;
} PlCreate;

/* Namespace Management, create: the NSID made in *@nsid */
static uint16_t pl_create(QNvmeCtrl *c, const PlCreate *a, uint32_t *nsid)
{
    NvmeIdNs id = { 0 };
    NvmeSqe cmd = { .opcode = NVME_ADM_NS_MANAGEMENT,
                    .cdw10 = NVME_NS_MGMT_CREATE, .cdw11 = a->csi << 24 };
    uint64_t buf = qnvme_alloc(c, sizeof(id));
    NvmeCqe cqe;
    uint16_t st;

    id.nsze = cpu_to_le64(a->nsze);
    id.ncap = cpu_to_le64(a->ncap ? a->ncap : a->nsze);
    id.flbas = a->flbas;
    id.nmic = a->nmic;
    id.dps = a->dps;
    id.anagrpid = cpu_to_le32(a->anagrpid);
    qtest_memwrite(c->qts, buf, &id, sizeof(id));
    qnvme_set_prps(c, &cmd, buf, sizeof(id));
    st = qnvme_admin(c, &cmd, &cqe);
    guest_free(&c->qs->alloc, buf);
    if (nsid) {
        *nsid = st ? 0 : cqe.dw0;
    }
    return st;
}

static uint32_t pl_create_ok(QNvmeCtrl *c, uint64_t nsze, uint8_t nmic)
{
    uint32_t nsid = 0;

    qnvme_assert_ok(pl_create(c, &(PlCreate){ .nsze = nsze, .nmic = nmic },
                              &nsid));
    g_assert_cmpuint(nsid, >=, 1);
    return nsid;
}

static uint16_t pl_delete(QNvmeCtrl *c, uint32_t nsid)
{
    NvmeSqe cmd = { .opcode = NVME_ADM_NS_MANAGEMENT, .nsid = nsid,
                    .cdw10 = NVME_NS_MGMT_DELETE };

    return qnvme_admin(c, &cmd, NULL);
}

static uint16_t pl_attach(QNvmeCtrl *c, uint32_t sel, uint32_t nsid,
                          uint16_t cntlid)
{
    return qnvme_ns_attachment(c, sel, nsid, 1, &cntlid, 1);
}

/* TNVMCAP and UNVMCAP of Identify Controller */
static void pl_capacity(QNvmeCtrl *c, uint64_t *total, uint64_t *free)
{
    NvmeIdCtrl id;

    qnvme_identify_ctrl(c, &id);
    *total = ldq_le_p(id.tnvmcap);
    *free = ldq_le_p(id.unvmcap);
    g_assert_true(qnvme_all_zero(id.tnvmcap + 8, 8));
    g_assert_true(qnvme_all_zero(id.unvmcap + 8, 8));
}

static uint64_t pl_unallocated(QNvmeCtrl *c)
{
    uint64_t total, free;

    pl_capacity(c, &total, &free);
    return free;
}

/* Is @nsid in the list of CNS @cns (02h active, 10h allocated)? */
static bool pl_listed(QNvmeCtrl *c, uint8_t cns, uint32_t nsid)
{
    uint32_t list[1024];

    qnvme_assert_ok(qnvme_identify(c, &(QNvmeIdentify){ .cns = cns }, list));
    for (unsigned i = 0; i < ARRAY_SIZE(list) && list[i]; i++) {
        if (le32_to_cpu(list[i]) == nsid) {
            return true;
        }
    }
    return false;
}

/* Both controllers, enabled with queue pair 1; the pool on @pool */
static QNvmeCtrl *pl_boot(const char *pool, bool ana, QNvmeCtrl **c1)
{
    QNvmeCtrl *c0 = ana ? qnvme_boot(PL_DEVS(",ana=true"), pool)
                        : qnvme_boot(PL_DEVS(""), pool);

    qnvme_enable(c0);
    qnvme_create_ioq_pair(c0, 1, QNVME_IOQ_ENTRIES);
    *c1 = qnvme_attach(c0, QNVME_SLOT2);
    qnvme_enable(*c1);
    qnvme_create_ioq_pair(*c1, 1, QNVME_IOQ_ENTRIES);
    return c0;
}

static void pl_shutdown(QNvmeCtrl *c0, QNvmeCtrl *c1)
{
    qnvme_shutdown(c1);
    qnvme_shutdown(c0);
}

/* ---- the tests ---------------------------------------------------------- */

/* OACS says Namespace Management; a pool reports its capacity */
static void test_identify(void)
{
    g_autofree char *pool = qnvme_make_image(PL_POOL_SIZE);
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = pl_boot(pool, false, &c1);
    NvmeIdCtrl id;
    uint64_t total, free;

    qnvme_identify_ctrl(c0, &id);
    g_assert_true(le16_to_cpu(id.oacs) & NVME_OACS_NS_MGMT);
    pl_capacity(c1, &total, &free);
    g_assert_cmpuint(total, ==, PL_USABLE);
    g_assert_cmpuint(free, ==, PL_USABLE);
    pl_shutdown(c0, c1);
    unlink(pool);
}

/* Without a pool there is no capacity: Create fails and changes nothing */
static void test_no_pool(void)
{
    QNvmeCtrl *c = qnvme_boot_io();
    uint64_t total, free;
    NvmeIdCtrl id;

    /* OACS bit 3 only with a pool (Linux reads it as "NSIDs are unique") */
    qnvme_identify_ctrl(c, &id);
    g_assert_false(le16_to_cpu(id.oacs) & NVME_OACS_NS_MGMT);
    pl_capacity(c, &total, &free);
    g_assert_cmpuint(total, ==, 0);
    g_assert_cmpuint(free, ==, 0);
    qnvme_assert_status(pl_create(c, &(PlCreate){ .nsze = 8 }, NULL),
                        PL_CS(NVME_SC_NS_INSUFFICIENT_CAP));
    qnvme_assert_status(pl_delete(c, 1), PL_INVALID);
    qnvme_assert_ok(qnvme_read_blocks(c, 1, 1, 0, 1));
    qnvme_shutdown(c);
}

/*
 * A created namespace: allocated but not active until attached, reads as
 * zeroes whatever the pool held there, and works through both controllers
 * beside the command line's namespace.
 */
static void test_create_attach(void)
{
    g_autofree char *pool = qnvme_make_image(PL_POOL_SIZE);
    g_autofree uint8_t *junk = g_malloc(MiB);
    uint8_t got[512];
    QNvmeCtrl *c1, *c0;
    uint32_t nsid;
    NvmeIdNs id;
    int fd;

    /* old data where the first namespace goes: it must not show */
    memset(junk, 0x5a, MiB);
    fd = open(pool, O_WRONLY);
    g_assert_cmpint(pwrite(fd, junk, MiB, MiB), ==, MiB);
    close(fd);

    c0 = pl_boot(pool, false, &c1);
    nsid = pl_create_ok(c0, 8192, NVME_NMIC_SHARED);       /* 4 MiB */
    g_assert_cmpuint(nsid, ==, 2);
    g_assert_cmpuint(pl_unallocated(c1), ==, PL_USABLE - 4 * MiB);
    g_assert_true(pl_listed(c1, NVME_CNS_ALLOCATED_NS_LIST, nsid));
    g_assert_false(pl_listed(c0, NVME_CNS_ACTIVE_NS_LIST, nsid));
    qnvme_assert_ok(qnvme_identify(c1, &(QNvmeIdentify){
        .cns = NVME_CNS_ALLOCATED_NS, .nsid = nsid }, &id));
    g_assert_cmpuint(le64_to_cpu(id.nsze), ==, 8192);
    g_assert_cmpuint(le64_to_cpu(id.ncap), ==, 8192);
    g_assert_cmpuint(id.nmic, ==, NVME_NMIC_SHARED);
    g_assert_cmpuint(NVME_FLBAS_INDEX(id.flbas), ==, 0);

    qnvme_assert_ok(pl_attach(c0, NVME_NS_ATTACH, nsid, 1));
    qnvme_assert_ok(pl_attach(c0, NVME_NS_ATTACH, nsid, 2));
    g_assert_true(pl_listed(c0, NVME_CNS_ACTIVE_NS_LIST, nsid));
    g_assert_true(pl_listed(c1, NVME_CNS_ACTIVE_NS_LIST, nsid));
    qnvme_assert_ok(qnvme_read(c1, 1, nsid, 0, 1, got, sizeof(got)));
    g_assert_true(qnvme_all_zero(got, sizeof(got)));
    qnvme_assert_ok(qnvme_read(c1, 1, nsid, 8191, 1, got, sizeof(got)));
    g_assert_true(qnvme_all_zero(got, sizeof(got)));
    qnvme_assert_status(qnvme_read_blocks(c0, 1, nsid, 8192, 1),
                        QNVME_ST_DNR(NVME_SCT_GENERIC,
                                     NVME_SC_LBA_OUT_OF_RANGE));
    qnvme_write_pattern(c0, 1, nsid, 100, 16, 21);
    qnvme_assert_pattern(c1, 1, nsid, 100, 16, 21);
    /* the command line's namespace is untouched by it */
    qnvme_write_pattern(c0, 1, 1, 100, 16, 22);
    qnvme_assert_pattern(c1, 1, nsid, 100, 16, 21);
    qnvme_assert_pattern(c1, 1, 1, 100, 16, 22);

    /* a second one goes after the first */
    g_assert_cmpuint(pl_create_ok(c1, 2048, NVME_NMIC_SHARED), ==, 3);
    g_assert_cmpuint(pl_unallocated(c0), ==, PL_USABLE - 5 * MiB);
    pl_shutdown(c0, c1);
    unlink(pool);
}

/* Every invalid Create and Delete fails with its status and changes nothing */
static void test_statuses(void)
{
    g_autofree char *pool = qnvme_make_image(PL_POOL_SIZE);
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = pl_boot(pool, false, &c1);
    static const struct {
        PlCreate a;
        uint16_t status;
    } bad[] = {
        { { .nsze = 8, .flbas = 2 }, PL_CS(NVME_SC_INVALID_FORMAT) },
        { { .nsze = 8, .flbas = 0x10 }, PL_CS(NVME_SC_INVALID_FORMAT) },
        { { .nsze = 0 }, PL_INVALID },
        { { .nsze = 8, .ncap = 4 }, PL_CS(NVME_SC_THIN_PROV_UNSUPPORTED) },
        { { .nsze = 8, .ncap = 16 }, PL_INVALID },
        { { .nsze = 8, .dps = 1 }, PL_INVALID },
        { { .nsze = 8, .nmic = 2 }, PL_INVALID },
        { { .nsze = 8, .csi = 2 }, PL_INVALID },
        { { .nsze = 8, .anagrpid = 1 }, PL_INVALID },   /* no ANA here */
        { { .nsze = PL_USABLE / 512 + 1 }, PL_CS(NVME_SC_NS_INSUFFICIENT_CAP) },
        { { .nsze = UINT64_MAX }, PL_CS(NVME_SC_NS_INSUFFICIENT_CAP) },
        { { .nsze = UINT64_MAX / 4096, .flbas = 1 },
          PL_CS(NVME_SC_NS_INSUFFICIENT_CAP) },
    };
    NvmeSqe sel2 = { .opcode = NVME_ADM_NS_MANAGEMENT, .cdw10 = 2 };

    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        qnvme_assert_status(pl_create(c0, &bad[i].a, NULL), bad[i].status);
    }
    g_assert_cmpuint(pl_unallocated(c0), ==, PL_USABLE);
    g_assert_false(pl_listed(c0, NVME_CNS_ALLOCATED_NS_LIST, 2));
    qnvme_assert_status(qnvme_admin(c0, &sel2, NULL), PL_INVALID);

    /* the whole pool in one namespace works, and then nothing more fits */
    g_assert_cmpuint(pl_create_ok(c0, PL_USABLE / 512, 0), ==, 2);
    g_assert_cmpuint(pl_unallocated(c0), ==, 0);
    qnvme_assert_status(pl_create(c0, &(PlCreate){ .nsze = 1 }, NULL),
                        PL_CS(NVME_SC_NS_INSUFFICIENT_CAP));

    qnvme_assert_status(pl_delete(c0, 0), PL_NSID);
    qnvme_assert_status(pl_delete(c0, 1025), PL_NSID);
    qnvme_assert_status(pl_delete(c0, 7), PL_INVALID);      /* unallocated */
    qnvme_assert_status(pl_delete(c0, 1), PL_INVALID);      /* command line */
    qnvme_assert_ok(qnvme_read_blocks(c1, 1, 1, 0, 1));
    qnvme_assert_ok(pl_delete(c1, 2));
    g_assert_cmpuint(pl_unallocated(c0), ==, PL_USABLE);
    qnvme_assert_status(pl_delete(c0, 2), PL_INVALID);
    pl_shutdown(c0, c1);
    unlink(pool);
}

/* NMIC 0: one controller at a time. ANA: the group asked for, or group 1 */
static void test_private_and_ana(void)
{
    g_autofree char *pool = qnvme_make_image(PL_POOL_SIZE);
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = pl_boot(pool, true, &c1);
    uint32_t priv = pl_create_ok(c0, 2048, 0), grp2, grp1;
    QNvmeAnaLog log;
    NvmeIdNs id;

    qnvme_assert_ok(pl_attach(c0, NVME_NS_ATTACH, priv, 1));
    qnvme_assert_status(pl_attach(c0, NVME_NS_ATTACH, priv, 2),
                        PL_CS(NVME_SC_NS_IS_PRIVATE));
    qnvme_identify_ns(c0, priv, &id);
    g_assert_cmpuint(id.nmic, ==, 0);

    qnvme_assert_status(pl_create(c0, &(PlCreate){ .nsze = 8,
                                                   .anagrpid = 129 }, NULL),
                        PL_CS(NVME_SC_ANA_GROUP_ID_INVALID));
    qnvme_assert_ok(pl_create(c0, &(PlCreate){ .nsze = 2048, .nmic = 1,
                                              .anagrpid = 2 }, &grp2));
    qnvme_assert_ok(pl_create(c0, &(PlCreate){ .nsze = 2048, .nmic = 1 },
                              &grp1));
    qnvme_assert_ok(pl_attach(c1, NVME_NS_ATTACH, grp2, 2));
    qnvme_assert_ok(pl_attach(c1, NVME_NS_ATTACH, grp1, 2));
    qnvme_identify_ns(c1, grp2, &id);
    g_assert_cmpuint(le32_to_cpu(id.anagrpid), ==, 2);
    qnvme_identify_ns(c1, grp1, &id);
    g_assert_cmpuint(le32_to_cpu(id.anagrpid), ==, 1);
    qnvme_read_ana_log(c1, 0, true, &log);
    for (unsigned i = 0; i < log.ngrps; i++) {
        if (log.desc[i].grpid == 2) {
            g_assert_cmpuint(log.desc[i].nnsids, ==, 1);
            g_assert_cmpuint(log.desc[i].nsids[0], ==, grp2);
        }
    }
    pl_shutdown(c0, c1);
    unlink(pool);
}

/*
 * The table keeps namespaces, attachments, LBA formats, identifiers and
 * data across a restart; a deleted one stays deleted.
 */
static void test_persist(void)
{
    g_autofree char *pool = qnvme_make_image(PL_POOL_SIZE);
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = pl_boot(pool, false, &c1);
    uint8_t desc[2][NVME_IDENTIFY_SIZE];
    uint32_t keep = pl_create_ok(c0, 8192, NVME_NMIC_SHARED);
    uint32_t gone = pl_create_ok(c0, 2048, NVME_NMIC_SHARED);
    NvmeSqe fmt = { .opcode = NVME_ADM_FORMAT_NVM, .nsid = gone, .cdw10 = 1 };
    NvmeIdNs id;

    qnvme_assert_ok(pl_attach(c0, NVME_NS_ATTACH, keep, 1));
    qnvme_assert_ok(pl_attach(c0, NVME_NS_ATTACH, gone, 2));
    qnvme_write_pattern(c0, 1, keep, 0, 64, 31);
    qnvme_assert_ok(qnvme_admin(c1, &fmt, NULL));           /* to 4 KiB */
    qnvme_assert_ok(qnvme_identify(c0, &(QNvmeIdentify){
        .cns = NVME_CNS_NS_DESC_LIST, .nsid = keep }, desc[0]));
    pl_shutdown(c0, c1);

    c0 = pl_boot(pool, false, &c1);
    g_assert_true(pl_listed(c0, NVME_CNS_ACTIVE_NS_LIST, keep));
    g_assert_false(pl_listed(c1, NVME_CNS_ACTIVE_NS_LIST, keep));
    g_assert_true(pl_listed(c1, NVME_CNS_ACTIVE_NS_LIST, gone));
    qnvme_assert_pattern(c0, 1, keep, 0, 64, 31);
    qnvme_assert_ok(qnvme_identify(c0, &(QNvmeIdentify){
        .cns = NVME_CNS_NS_DESC_LIST, .nsid = keep }, desc[1]));
    g_assert_true(memcmp(desc[0], desc[1], sizeof(desc[0])) == 0);
    qnvme_identify_ns(c1, gone, &id);
    g_assert_cmpuint(NVME_FLBAS_INDEX(id.flbas), ==, 1);
    g_assert_cmpuint(le64_to_cpu(id.nsze), ==, 2048 * 512 / 4096);
    g_assert_cmpuint(pl_unallocated(c0), ==, PL_USABLE - 5 * MiB);
    qnvme_assert_ok(pl_delete(c0, gone));
    pl_shutdown(c0, c1);

    c0 = pl_boot(pool, false, &c1);
    g_assert_false(pl_listed(c0, NVME_CNS_ALLOCATED_NS_LIST, gone));
    g_assert_true(pl_listed(c0, NVME_CNS_ALLOCATED_NS_LIST, keep));
    g_assert_cmpuint(pl_unallocated(c0), ==, PL_USABLE - 4 * MiB);
    pl_shutdown(c0, c1);
    unlink(pool);
}

/*
 * Delete with a Read in flight on the namespace (a drive with 0.5 s of
 * latency): the Delete completes at once, the Read completes, the range is
 * not handed out again before that, and QEMU stays up.
 */
static void test_delete_in_flight(void)
{
    QNvmeCtrl *c0 = qnvme_boot(
        "-drive if=none,id=pool,driver=null-co,size=64M,read-zeroes=on,"
        "latency-ns=500000000 "
        "-device nvme-subsys,id=s0,pool=pool "
        "-device nvme,id=c0," QNVME_ADDR ",serial=pl-a,subsys=s0");
    uint32_t nsid, again;
    NvmeSqe rd;
    uint16_t cid;

    qnvme_enable(c0);
    qnvme_create_ioq_pair(c0, 1, QNVME_IOQ_ENTRIES);
    nsid = pl_create_ok(c0, 2048, NVME_NMIC_SHARED);
    qnvme_assert_ok(pl_attach(c0, NVME_NS_ATTACH, nsid, 1));
    rd = qnvme_rw_cmd(NVME_IO_READ, nsid, 0, 8);
    qnvme_set_prps(c0, &rd, qnvme_alloc(c0, 4096), 4096);
    cid = qnvme_submit(c0, 1, &rd);
    qnvme_assert_ok(pl_delete(c0, nsid));
    g_assert_false(pl_listed(c0, NVME_CNS_ALLOCATED_NS_LIST, nsid));
    /* the read's range is still busy */
    g_assert_cmpuint(pl_unallocated(c0), ==, PL_USABLE - MiB);
    again = pl_create_ok(c0, 2048, NVME_NMIC_SHARED);
    g_assert_cmpuint(again, ==, nsid);              /* the NSID is free */
    qnvme_assert_ok(qnvme_wait_status_step(c0, 1, cid, 10 * G_USEC_PER_SEC,
                                           QNVME_POLL_STEP_NS));
    g_assert_cmpuint(pl_unallocated(c0), ==, PL_USABLE - MiB);
    qnvme_assert_ok(pl_delete(c0, NVME_NSID_BROADCAST));
    g_assert_cmpuint(pl_unallocated(c0), ==, PL_USABLE);
    qnvme_assert_alive(c0);
    qnvme_shutdown(c0);
}

/* 256 entries: the 257th Create finds no NSID; FFFFFFFFh deletes them all */
static void test_table_full(void)
{
    g_autofree char *pool = qnvme_make_image(300 * MiB);
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = pl_boot(pool, false, &c1);

    for (unsigned i = 0; i < 256; i++) {
        g_assert_cmpuint(pl_create_ok(c0, 8, 0), ==, i + 2);
    }
    qnvme_assert_status(pl_create(c0, &(PlCreate){ .nsze = 8 }, NULL),
                        PL_CS(NVME_SC_NS_ID_UNAVAILABLE));
    qnvme_assert_ok(pl_delete(c1, NVME_NSID_BROADCAST));
    g_assert_cmpuint(pl_unallocated(c0), ==, 299 * MiB);
    g_assert_true(pl_listed(c0, NVME_CNS_ACTIVE_NS_LIST, 1));
    g_assert_cmpuint(pl_create_ok(c0, 8, 0), ==, 2);
    pl_shutdown(c0, c1);
    unlink(pool);
}

/* Reservation commands on namespace @nsid (see nvme-resv-test.c) */
static uint16_t pl_resv(QNvmeCtrl *c, uint8_t opcode, uint32_t nsid,
                        uint32_t dw10, uint64_t k1, uint64_t k2)
{
    uint64_t keys[2] = { cpu_to_le64(k1), cpu_to_le64(k2) };
    NvmeSqe cmd = { .opcode = opcode, .nsid = nsid, .cdw10 = dw10 };
    uint64_t buf = qnvme_alloc(c, sizeof(keys));
    uint16_t st;

    qtest_memwrite(c->qts, buf, keys, sizeof(keys));
    qnvme_set_prps(c, &cmd, buf, sizeof(keys));
    st = qnvme_exec(c, 1, &cmd, NULL);
    guest_free(&c->qs->alloc, buf);
    return st;
}

static void pl_set_host(QNvmeCtrl *c, uint64_t host)
{
    uint64_t le = cpu_to_le64(host);

    qnvme_assert_ok(qnvme_set_features(c, &(QNvmeFeat){
        .fid = NVME_FEAT_HOST_ID, .buf = &le, .len = 8 }, NULL));
}

/* Reservation Report header of @nsid: PTPLS, RTYPE, REGCTL, GEN */
static NvmeResvStatus pl_report(QNvmeCtrl *c, uint32_t nsid,
                                NvmeResvCtrl *entries, unsigned n)
{
    uint8_t buf[sizeof(NvmeResvStatus) + 4 * sizeof(NvmeResvCtrl)] = { 0 };
    NvmeSqe cmd = { .opcode = NVME_IO_RESV_REPORT, .nsid = nsid,
                    .cdw10 = sizeof(buf) / 4 - 1 };
    uint64_t gbuf = qnvme_zalloc(c, sizeof(buf));
    NvmeResvStatus st;

    qnvme_set_prps(c, &cmd, gbuf, sizeof(buf));
    qnvme_assert_ok(qnvme_exec(c, 1, &cmd, NULL));
    qtest_bufread(c->qts, gbuf, buf, sizeof(buf));
    memcpy(&st, buf, sizeof(st));
    memcpy(entries, buf + sizeof(st), n * sizeof(*entries));
    return st;
}

#define PL_HOST_A   0xa1a1a1a1a1a1a1a1ull
#define PL_HOST_B   0xb2b2b2b2b2b2b2b2ull

/*
 * Persist Through Power Loss, on a pool namespace only: with CPTPL 11b the
 * registrations and the reservation outlive a restart (the fenced host is
 * still fenced); after PTPL is cleared (feature 83h) they do not.
 */
static void test_ptpl(void)
{
    g_autofree char *pool = qnvme_make_image(PL_POOL_SIZE);
    QNvmeCtrl *c1;
    QNvmeCtrl *c0 = pl_boot(pool, false, &c1);
    uint32_t nsid = pl_create_ok(c0, 2048, NVME_NMIC_SHARED), dw0 = 0;
    uint32_t reg_ptpl_on = NVME_RESV_REGISTER | NVME_RESV_CPTPL_ON << 30;
    uint16_t conflict = QNVME_ST_DNR(NVME_SCT_GENERIC,
                                     NVME_SC_RESERVATION_CONFLICT);
    uint8_t data[512] = { 7 };
    NvmeResvCtrl e[4];
    NvmeResvStatus st;
    NvmeIdNs id;

    qnvme_assert_ok(pl_attach(c0, NVME_NS_ATTACH, nsid, 1));
    qnvme_assert_ok(pl_attach(c0, NVME_NS_ATTACH, nsid, 2));
    qnvme_identify_ns(c0, nsid, &id);
    g_assert_cmphex(id.rescap, ==, 0xff);       /* PTPL too */
    qnvme_identify_ns(c0, 1, &id);
    g_assert_cmphex(id.rescap, ==, 0xfe);       /* not on the command line's */
    /* CPTPL 11b there is accepted and ignored: PTPL stays 0 */
    qnvme_assert_ok(pl_resv(c0, NVME_IO_RESV_REGISTER, 1, reg_ptpl_on, 0,
                            0x1));
    g_assert_cmpuint(pl_report(c0, 1, e, 1).ptpls, ==, 0);
    qnvme_assert_ok(pl_resv(c0, NVME_IO_RESV_REGISTER, 1, NVME_RESV_UNREGISTER,
                            0x1, 0));

    pl_set_host(c0, PL_HOST_A);
    pl_set_host(c1, PL_HOST_B);
    qnvme_assert_ok(pl_resv(c0, NVME_IO_RESV_REGISTER, nsid, reg_ptpl_on, 0,
                            0xaaa));
    qnvme_assert_ok(pl_resv(c0, NVME_IO_RESV_ACQUIRE, nsid,
                            NVME_RESV_WRITE_EXCL_REGS << 8, 0xaaa, 0));
    qnvme_assert_status(qnvme_write(c1, 1, NVME_IO_WRITE, nsid, 0, 1, data,
                                    sizeof(data)), conflict);
    st = pl_report(c1, nsid, e, 1);
    g_assert_cmpuint(st.ptpls, ==, 1);
    qnvme_assert_ok(qnvme_get_features(c1, &(QNvmeFeat){
        .fid = NVME_FEAT_RESV_PERSIST, .nsid = nsid }, &dw0));
    g_assert_cmpuint(dw0, ==, 1);
    pl_shutdown(c0, c1);

    /* a power cycle: the reservation is back, held by host A */
    c0 = pl_boot(pool, false, &c1);
    pl_set_host(c0, PL_HOST_A);
    pl_set_host(c1, PL_HOST_B);
    st = pl_report(c1, nsid, e, 1);
    g_assert_cmpuint(st.ptpls, ==, 1);
    g_assert_cmpuint(st.rtype, ==, NVME_RESV_WRITE_EXCL_REGS);
    g_assert_cmpuint(le16_to_cpu(st.regctl), ==, 1);
    g_assert_cmpuint(le32_to_cpu(st.gen), ==, 1);
    g_assert_cmpuint(le16_to_cpu(e[0].cntlid), ==, 1);
    g_assert_cmpuint(e[0].rcsts, ==, 1);
    g_assert_cmphex(le64_to_cpu(e[0].rkey), ==, 0xaaa);
    qnvme_assert_status(qnvme_write(c1, 1, NVME_IO_WRITE, nsid, 0, 1, data,
                                    sizeof(data)), conflict);
    qnvme_assert_ok(qnvme_write(c0, 1, NVME_IO_WRITE, nsid, 0, 1, data,
                                sizeof(data)));
    /* PTPL cleared: nothing is kept through the next power cycle */
    qnvme_assert_ok(qnvme_set_features(c0, &(QNvmeFeat){
        .fid = NVME_FEAT_RESV_PERSIST, .nsid = nsid, .dw11 = 0 }, NULL));
    pl_shutdown(c0, c1);

    c0 = pl_boot(pool, false, &c1);
    st = pl_report(c1, nsid, e, 1);
    g_assert_cmpuint(st.ptpls, ==, 0);
    g_assert_cmpuint(st.rtype, ==, NVME_RESV_NONE);
    g_assert_cmpuint(le16_to_cpu(st.regctl), ==, 0);
    qnvme_assert_ok(qnvme_write(c1, 1, NVME_IO_WRITE, nsid, 0, 1, data,
                                sizeof(data)));
    pl_shutdown(c0, c1);
    unlink(pool);
}

/*
 * A pool written by someone else: a kept reservation that names one host
 * twice is dropped (with a warning), the namespace itself is kept
 */
static void test_damaged_reservation(void)
{
    g_autofree char *pool = qnvme_make_image(PL_POOL_SIZE);
    uint8_t meta[4096] = { 0 }, entry[64] = { 0 }, resv[80] = { 0 };
    QNvmeCtrl *c1, *c0;
    NvmeResvCtrl e[4];
    NvmeResvStatus st;
    int fd;

    memcpy(meta, "QEMUNVMP", 8);
    stl_le_p(meta + 8, 1);                  /* version */
    stl_le_p(meta + 12, 256);               /* entries */
    stq_le_p(meta + 16, MiB);               /* data offset */
    stl_le_p(entry, 2);                     /* NSID 2 */
    entry[5] = 1;                           /* NMIC: shared */
    stq_le_p(entry + 8, MiB);               /* offset */
    stq_le_p(entry + 16, MiB);              /* size */
    stq_le_p(entry + 32, 1);                /* attached to CNTLID 1 */
    resv[0] = 1;                            /* PTPL */
    resv[1] = NVME_RESV_WRITE_EXCL;
    resv[2] = 2;                            /* two registrants, both host 0 */
    stq_le_p(resv + 32 + 16, 0x11);
    stq_le_p(resv + 56 + 16, 0x22);
    fd = open(pool, O_WRONLY);
    g_assert_cmpint(pwrite(fd, meta, sizeof(meta), 0), ==, sizeof(meta));
    g_assert_cmpint(pwrite(fd, entry, sizeof(entry), 4096), ==,
                    sizeof(entry));
    g_assert_cmpint(pwrite(fd, resv, sizeof(resv), 512 * KiB), ==,
                    sizeof(resv));
    close(fd);

    c0 = pl_boot(pool, false, &c1);
    g_assert_true(pl_listed(c0, NVME_CNS_ACTIVE_NS_LIST, 2));
    g_assert_false(pl_listed(c1, NVME_CNS_ACTIVE_NS_LIST, 2));
    st = pl_report(c0, 2, e, 1);
    g_assert_cmpuint(le16_to_cpu(st.regctl), ==, 0);
    g_assert_cmpuint(st.rtype, ==, NVME_RESV_NONE);
    g_assert_cmpuint(st.ptpls, ==, 0);
    qnvme_write_pattern(c0, 1, 2, 0, 8, 5);
    pl_shutdown(c0, c1);
    unlink(pool);
}

static const QNvmeTest pl_tests[] = {
    { "identify", test_identify },
    { "no-pool", test_no_pool },
    { "create-attach", test_create_attach },
    { "statuses", test_statuses },
    { "private-and-ana", test_private_and_ana },
    { "persist", test_persist },
    { "delete-in-flight", test_delete_in_flight },
    { "table-full", test_table_full },
    { "ptpl", test_ptpl },
    { "damaged-reservation", test_damaged_reservation },
};

/* QNVME_IOTHREAD=1: a pool is refused with iothread= (test_config.py) */
static void pl_skip(void)
{
    g_test_skip("a subsystem with a pool does not take iothread=");
}

int main(int argc, char **argv)
{
    qnvme_test_init(&argc, &argv);
    if (qnvme_iothread_mode()) {
        for (size_t i = 0; i < ARRAY_SIZE(pl_tests); i++) {
            g_autofree char *path = g_strdup_printf("/nvme-pool/%s",
                                                    pl_tests[i].name);

            qtest_add_func(path, pl_skip);
        }
        return g_test_run();
    }
    qnvme_add_tests("/nvme-pool", pl_tests, ARRAY_SIZE(pl_tests));
    return g_test_run();
}
