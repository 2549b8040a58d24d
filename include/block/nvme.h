/*
 * NVM Express: definitions from the specifications, and nothing else.
 *
 * References are to the NVM Express Base Specification 2.0 ("base") and the
 * NVM Command Set Specification 1.0 ("nvm"). Layouts are little-endian on
 * the wire; every structure is checked for size and field offsets at build
 * time in nvme_spec_layout_checks() at the end of this file.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef BLOCK_NVME_H
#define BLOCK_NVME_H

#include "hw/registerfields.h"

/* Multi-byte fields of the structures below are little-endian on the wire. */
typedef uint16_t le16;
typedef uint32_t le32;
typedef uint64_t le64;

/* ---- base 3.1.4: controller registers (BAR0) ---------------------------- */

REG64(NVME_CAP, 0x00)
    FIELD(NVME_CAP, MQES, 0, 16)    /* max queue entries supported, 0's based */
    FIELD(NVME_CAP, CQR, 16, 1)     /* contiguous queues required */
    FIELD(NVME_CAP, AMS, 17, 2)     /* arbitration mechanisms supported */
    FIELD(NVME_CAP, TO, 24, 8)      /* ready timeout, 500 ms units */
    FIELD(NVME_CAP, DSTRD, 32, 4)   /* doorbell stride: 4 << DSTRD bytes */
    FIELD(NVME_CAP, NSSRS, 36, 1)   /* NVM subsystem reset supported */
    FIELD(NVME_CAP, CSS, 37, 8)     /* command sets supported */
    FIELD(NVME_CAP, BPS, 45, 1)
    FIELD(NVME_CAP, CPS, 46, 2)
    FIELD(NVME_CAP, MPSMIN, 48, 4)  /* 2 ^ (12 + MPSMIN) */
    FIELD(NVME_CAP, MPSMAX, 52, 4)
    FIELD(NVME_CAP, PMRS, 56, 1)
    FIELD(NVME_CAP, CMBS, 57, 1)
    FIELD(NVME_CAP, NSSS, 58, 1)
    FIELD(NVME_CAP, CRMS, 59, 2)
REG32(NVME_VS, 0x08)
REG32(NVME_INTMS, 0x0c)
REG32(NVME_INTMC, 0x10)
REG32(NVME_CC, 0x14)
    FIELD(NVME_CC, EN, 0, 1)
    FIELD(NVME_CC, CSS, 4, 3)
    FIELD(NVME_CC, MPS, 7, 4)
    FIELD(NVME_CC, AMS, 11, 3)
    FIELD(NVME_CC, SHN, 14, 2)
    FIELD(NVME_CC, IOSQES, 16, 4)
    FIELD(NVME_CC, IOCQES, 20, 4)
    FIELD(NVME_CC, CRIME, 24, 1)
REG32(NVME_CSTS, 0x1c)
    FIELD(NVME_CSTS, RDY, 0, 1)
    FIELD(NVME_CSTS, CFS, 1, 1)
    FIELD(NVME_CSTS, SHST, 2, 2)
    FIELD(NVME_CSTS, NSSRO, 4, 1)
    FIELD(NVME_CSTS, PP, 5, 1)
REG32(NVME_NSSR, 0x20)
REG32(NVME_AQA, 0x24)
    FIELD(NVME_AQA, ASQS, 0, 12)
    FIELD(NVME_AQA, ACQS, 16, 12)
REG64(NVME_ASQ, 0x28)
REG64(NVME_ACQ, 0x30)
REG32(NVME_CMBLOC, 0x38)
REG32(NVME_CMBSZ, 0x3c)

/* doorbells start here (base 3.1.4.21) */
#define NVME_REG_SIZE           0x1000
#define NVME_NSSR_RESET         0x4e564d65u   /* "NVMe" */

/* CAP.CSS bits (base 3.1.4.1) */
#define NVME_CAP_CSS_NVM        (1u << 0)
#define NVME_CAP_CSS_IOCS       (1u << 6)  /* one or more I/O command sets */
#define NVME_CAP_CSS_NOIO       (1u << 7)

/* CC.CSS values (base 3.1.4.5) */
#define NVME_CC_CSS_NVM         0
#define NVME_CC_CSS_IOCS        6
#define NVME_CC_CSS_ADMIN_ONLY  7

/* CC.SHN and CSTS.SHST */
#define NVME_SHN_NONE           0
#define NVME_SHN_NORMAL         1
#define NVME_SHN_ABRUPT         2
#define NVME_SHST_NORMAL        0
#define NVME_SHST_OCCURRING     1
#define NVME_SHST_COMPLETE      2

#define NVME_VERSION(mjr, mnr, ter) (((mjr) << 16) | ((mnr) << 8) | (ter))

/* ---- base 4.1 / 4.2: queue entries ------------------------------------- */

typedef struct QEMU_PACKED NvmeSgl {
    le64     addr;
    le32     len;
    uint8_t  rsvd[3];
    uint8_t  type;          /* bits 7:4 descriptor type, 3:0 sub type */
} NvmeSgl;

typedef union NvmeDataPtr {
    struct QEMU_PACKED {
        le64     prp1;
        le64     prp2;
    };
    NvmeSgl sgl;
} NvmeDataPtr;

/* base 4.2 Figure 88: common command format */
typedef struct QEMU_PACKED NvmeSqe {
    uint8_t  opcode;
    uint8_t  flags;      /* FUSE 1:0, PSDT 7:6 */
    le16     cid;
    le32     nsid;
    le32     cdw2;
    le32     cdw3;
    le64     mptr;
    NvmeDataPtr dptr;
    le32     cdw10;
    le32     cdw11;
    le32     cdw12;
    le32     cdw13;
    le32     cdw14;
    le32     cdw15;
} NvmeSqe;

#define NVME_SQE_FUSE(flags)    ((flags) & 0x3)
#define NVME_SQE_PSDT(flags)    (((flags) >> 6) & 0x3)
#define NVME_PSDT_PRP           0
#define NVME_PSDT_SGL_MPTR_CONTIG 1
#define NVME_PSDT_SGL_MPTR_SGL  2

/* base 4.6 Figure 90: SGL descriptor types (upper nibble of the type byte) */
#define NVME_SGL_TYPE(type)     ((type) >> 4)
#define NVME_SGL_SUBTYPE(type)  ((type) & 0xf)
#define NVME_SGL_DATA_BLOCK     0x0
#define NVME_SGL_BIT_BUCKET     0x1
#define NVME_SGL_SEGMENT        0x2
#define NVME_SGL_LAST_SEGMENT   0x3
#define NVME_SGL_KEYED_DATA     0x4
#define NVME_SGL_TRANSPORT      0x5
#define NVME_SGL_VENDOR         0xf

/* base 4.2.3 Figure 92: completion queue entry */
typedef struct QEMU_PACKED NvmeCqe {
    le32     dw0;
    le32     dw1;
    le16     sqhd;
    le16     sqid;
    le16     cid;
    le16     status;        /* phase tag in bit 0, status field in 15:1 */
} NvmeCqe;

/*
 * base 4.2.3 Figure 93/94: the status field. Our status values carry
 * SCT/SC/DNR shifted as in the status field minus the phase bit, i.e.
 * bits 7:0 SC, 10:8 SCT, 11:12 CRD, 13 M, 14 DNR; the CQE holds it << 1.
 */
#define NVME_STATUS(sct, sc)    ((uint16_t)(((sct) << 8) | (sc)))
#define NVME_STATUS_SCT(st)     (((st) >> 8) & 0x7)
#define NVME_STATUS_SC(st)      ((st) & 0xff)
#define NVME_DNR                0x4000
#define NVME_MORE               0x2000

enum NvmeStatusCodeType {
    NVME_SCT_GENERIC        = 0,
    NVME_SCT_CMD_SPECIFIC   = 1,
    NVME_SCT_MEDIA          = 2,
    NVME_SCT_PATH           = 3,
};

/* base 4.2.3.1 Figure 95 (generic) and nvm 3.2.1 */
enum NvmeGenericStatus {
    NVME_SC_SUCCESS                 = 0x00,
    NVME_SC_INVALID_OPCODE          = 0x01,
    NVME_SC_INVALID_FIELD           = 0x02,
    NVME_SC_CID_CONFLICT            = 0x03,
    NVME_SC_DATA_TRANSFER_ERROR     = 0x04,
    NVME_SC_ABORTED_POWER_LOSS      = 0x05,
    NVME_SC_INTERNAL                = 0x06,
    NVME_SC_ABORT_REQUESTED         = 0x07,
    NVME_SC_ABORTED_SQ_DELETION     = 0x08,
    NVME_SC_INVALID_NSID            = 0x0b,
    NVME_SC_COMMAND_SEQUENCE        = 0x0c,
    NVME_SC_INVALID_SGL_SEGMENT     = 0x0d,
    NVME_SC_INVALID_SGL_COUNT       = 0x0e,
    NVME_SC_DATA_SGL_LENGTH         = 0x0f,
    NVME_SC_METADATA_SGL_LENGTH     = 0x10,
    NVME_SC_SGL_TYPE_INVALID        = 0x11,
    NVME_SC_PRP_OFFSET_INVALID      = 0x13,
    NVME_SC_SGL_OFFSET_INVALID      = 0x16,
    NVME_SC_HOST_ID_INCONSISTENT    = 0x18, /* Reservation Report, EDS */
    NVME_SC_NS_WRITE_PROTECTED      = 0x20,
    NVME_SC_LBA_OUT_OF_RANGE        = 0x80,
    NVME_SC_CAPACITY_EXCEEDED       = 0x81,
    NVME_SC_NS_NOT_READY            = 0x82,
    NVME_SC_RESERVATION_CONFLICT    = 0x83,
    NVME_SC_FORMAT_IN_PROGRESS      = 0x84,
};

/* base 4.2.3.2 Figure 96 (command specific) and nvm 3.2.2 */
enum NvmeCmdSpecificStatus {
    NVME_SC_CQ_INVALID              = 0x00,
    NVME_SC_INVALID_QID             = 0x01,
    NVME_SC_INVALID_QSIZE           = 0x02,
    NVME_SC_ABORT_LIMIT             = 0x03,
    NVME_SC_AER_LIMIT               = 0x05,
    NVME_SC_INVALID_FW_SLOT         = 0x06,
    NVME_SC_INVALID_IRQ_VECTOR      = 0x08,
    NVME_SC_INVALID_LOG_PAGE        = 0x09,
    NVME_SC_INVALID_FORMAT          = 0x0a,
    NVME_SC_INVALID_QUEUE_DELETION  = 0x0c,
    NVME_SC_FEAT_NOT_SAVEABLE       = 0x0d,
    NVME_SC_FEAT_NOT_CHANGEABLE     = 0x0e,
    NVME_SC_FEAT_NOT_NS_SPECIFIC    = 0x0f,
    NVME_SC_NS_INSUFFICIENT_CAP     = 0x15,
    NVME_SC_NS_ID_UNAVAILABLE       = 0x16,
    NVME_SC_NS_ALREADY_ATTACHED     = 0x18,
    NVME_SC_NS_IS_PRIVATE           = 0x19,
    NVME_SC_NS_NOT_ATTACHED         = 0x1a,
    NVME_SC_THIN_PROV_UNSUPPORTED   = 0x1b,
    NVME_SC_CTRL_LIST_INVALID       = 0x1c,
    NVME_SC_ANA_GROUP_ID_INVALID    = 0x24,
    NVME_SC_IOCS_COMBINATION_REJECTED = 0x2b, /* Set Features, I/O CS Profile */
    NVME_SC_CONFLICTING_ATTRS       = 0x80,
    NVME_SC_INVALID_PROT_INFO       = 0x81,
    NVME_SC_WRITE_TO_READ_ONLY      = 0x82,
    NVME_SC_CMD_SIZE_LIMIT          = 0x83, /* nvm 3.2.2: Copy limits */
};

/* base 4.2.3.3 Figure 97 and nvm 3.2.3 (media and data integrity) */
enum NvmeMediaStatus {
    NVME_SC_WRITE_FAULT             = 0x80,
    NVME_SC_UNRECOVERED_READ        = 0x81,
    NVME_SC_COMPARE_FAILURE         = 0x85,
    NVME_SC_ACCESS_DENIED           = 0x86,
};

/* base 4.2.3.4 Figure 98 (path related): hosts retry these on another path */
enum NvmePathStatus {
    NVME_SC_INTERNAL_PATH_ERROR     = 0x00,
    NVME_SC_ANA_PERSISTENT_LOSS     = 0x01,
    NVME_SC_ANA_INACCESSIBLE        = 0x02,
    NVME_SC_ANA_TRANSITION          = 0x03,
};

/* ---- base 5: admin command set ----------------------------------------- */

enum NvmeAdminOpcode {
    NVME_ADM_DELETE_SQ          = 0x00,
    NVME_ADM_CREATE_SQ          = 0x01,
    NVME_ADM_GET_LOG_PAGE       = 0x02,
    NVME_ADM_DELETE_CQ          = 0x04,
    NVME_ADM_CREATE_CQ          = 0x05,
    NVME_ADM_IDENTIFY           = 0x06,
    NVME_ADM_ABORT              = 0x08,
    NVME_ADM_SET_FEATURES       = 0x09,
    NVME_ADM_GET_FEATURES       = 0x0a,
    NVME_ADM_ASYNC_EVENT        = 0x0c,
    NVME_ADM_NS_MANAGEMENT      = 0x0d,
    NVME_ADM_FW_COMMIT          = 0x10,
    NVME_ADM_FW_DOWNLOAD        = 0x11,
    NVME_ADM_NS_ATTACHMENT      = 0x15,
    NVME_ADM_KEEP_ALIVE         = 0x18,
    NVME_ADM_DBBUF_CONFIG       = 0x7c,
    NVME_ADM_FORMAT_NVM         = 0x80,
};

/* nvm 3.3: NVM command set I/O opcodes */
enum NvmeIoOpcode {
    NVME_IO_FLUSH               = 0x00,
    NVME_IO_WRITE               = 0x01,
    NVME_IO_READ                = 0x02,
    NVME_IO_WRITE_UNCORRECTABLE = 0x04,
    NVME_IO_COMPARE             = 0x05,
    NVME_IO_WRITE_ZEROES        = 0x08,
    NVME_IO_DSM                 = 0x09,
    NVME_IO_VERIFY              = 0x0c,
    NVME_IO_RESV_REGISTER       = 0x0d,
    NVME_IO_RESV_REPORT         = 0x0e,
    NVME_IO_RESV_ACQUIRE        = 0x11,
    NVME_IO_RESV_RELEASE        = 0x15,
    NVME_IO_COPY                = 0x19,
};

#define NVME_NSID_BROADCAST     0xffffffffu

/* base 5.4/5.5: Create I/O CQ / SQ */
FIELD(NVME_CREATE_Q_DW10, QID, 0, 16)
FIELD(NVME_CREATE_Q_DW10, QSIZE, 16, 16)     /* 0's based */
FIELD(NVME_CREATE_CQ_DW11, PC, 0, 1)         /* physically contiguous */
FIELD(NVME_CREATE_CQ_DW11, IEN, 1, 1)        /* interrupts enabled */
FIELD(NVME_CREATE_CQ_DW11, IV, 16, 16)       /* interrupt vector */
FIELD(NVME_CREATE_SQ_DW11, PC, 0, 1)
FIELD(NVME_CREATE_SQ_DW11, QPRIO, 1, 2)
FIELD(NVME_CREATE_SQ_DW11, CQID, 16, 16)

/* base 5.1: Abort */
FIELD(NVME_ABORT_DW10, SQID, 0, 16)
FIELD(NVME_ABORT_DW10, CID, 16, 16)

/* base 5.16: Get Log Page */
FIELD(NVME_LOG_DW10, LID, 0, 8)
FIELD(NVME_LOG_DW10, LSP, 8, 7)
FIELD(NVME_LOG_DW10, RAE, 15, 1)
FIELD(NVME_LOG_DW10, NUMDL, 16, 16)
FIELD(NVME_LOG_DW11, NUMDU, 0, 16)
FIELD(NVME_LOG_DW11, LSI, 16, 16)
FIELD(NVME_LOG_DW14, CSI, 24, 8)

enum NvmeLogId {
    NVME_LOG_SUPPORTED          = 0x00,
    NVME_LOG_ERROR              = 0x01,
    NVME_LOG_SMART              = 0x02,
    NVME_LOG_FW_SLOT            = 0x03,
    NVME_LOG_CHANGED_NS         = 0x04,
    NVME_LOG_CMD_EFFECTS        = 0x05,
    NVME_LOG_ANA                = 0x0c,
    NVME_LOG_RESV_NOTICE        = 0x80,
};

/* base 5.17: Identify */
FIELD(NVME_IDENTIFY_DW10, CNS, 0, 8)
FIELD(NVME_IDENTIFY_DW10, CNTID, 16, 16)
FIELD(NVME_IDENTIFY_DW11, CSI, 24, 8)

enum NvmeIdCns {
    NVME_CNS_NS                 = 0x00,
    NVME_CNS_CTRL               = 0x01,
    NVME_CNS_ACTIVE_NS_LIST     = 0x02,
    NVME_CNS_NS_DESC_LIST       = 0x03,
    NVME_CNS_CSI_NS             = 0x05,
    NVME_CNS_CSI_CTRL           = 0x06,
    NVME_CNS_CSI_ACTIVE_NS_LIST = 0x07,
    NVME_CNS_CS_INDEP_NS        = 0x08,
    NVME_CNS_ALLOCATED_NS_LIST  = 0x10,
    NVME_CNS_ALLOCATED_NS       = 0x11,
    NVME_CNS_NS_CTRL_LIST       = 0x12,
    NVME_CNS_CTRL_LIST          = 0x13,
    NVME_CNS_CSI_ALLOC_NS_LIST  = 0x1a,
    NVME_CNS_CSI_ALLOC_NS       = 0x1b,
    NVME_CNS_IO_CMD_SET         = 0x1c,
};

/* base 5.17.2.1: command set identifiers */
#define NVME_CSI_NVM            0x00

/* base 5.15 Get Features, 5.27 Set Features */
FIELD(NVME_FEAT_DW10, FID, 0, 8)
FIELD(NVME_FEAT_DW10, SEL, 8, 3)             /* Get Features: which value */
FIELD(NVME_FEAT_DW10, SV, 31, 1)             /* Set Features: save */

enum NvmeFeatureSelect {
    NVME_SEL_CURRENT            = 0,
    NVME_SEL_DEFAULT            = 1,
    NVME_SEL_SAVED              = 2,
    NVME_SEL_SUPPORTED_CAPS     = 3,
};

/* Get Features, SEL=3 answer bits (base 5.15.1) */
#define NVME_FEAT_CAP_SAVEABLE  (1u << 0)
#define NVME_FEAT_CAP_NS        (1u << 1)
#define NVME_FEAT_CAP_CHANGEABLE (1u << 2)

enum NvmeFeatureId {
    NVME_FEAT_ARBITRATION       = 0x01,
    NVME_FEAT_POWER_MGMT        = 0x02,
    NVME_FEAT_TEMP_THRESHOLD    = 0x04,
    NVME_FEAT_ERROR_RECOVERY    = 0x05,
    NVME_FEAT_VOLATILE_WC       = 0x06,
    NVME_FEAT_NUM_QUEUES        = 0x07,
    NVME_FEAT_IRQ_COALESCING    = 0x08,
    NVME_FEAT_IRQ_CONFIG        = 0x09,
    NVME_FEAT_WRITE_ATOMICITY   = 0x0a,
    NVME_FEAT_ASYNC_EVENT_CFG   = 0x0b,
    NVME_FEAT_TIMESTAMP         = 0x0e,
    NVME_FEAT_HOST_BEHAVIOR     = 0x16,
    NVME_FEAT_IO_CMD_SET_PROFILE = 0x19,
    NVME_FEAT_HOST_ID           = 0x81,
    NVME_FEAT_RESV_MASK         = 0x82,
    NVME_FEAT_RESV_PERSIST      = 0x83,
};

/* base 5.27.1.4: Temperature Threshold */
FIELD(NVME_TEMP_DW11, TMPTH, 0, 16)
FIELD(NVME_TEMP_DW11, TMPSEL, 16, 4)
FIELD(NVME_TEMP_DW11, THSEL, 20, 2)
#define NVME_THSEL_OVER         0
#define NVME_THSEL_UNDER        1
#define NVME_TMPSEL_COMPOSITE   0x0
#define NVME_TMPSEL_ALL         0xf          /* every implemented sensor */

/* base 5.27.1.6: Error Recovery */
FIELD(NVME_ERR_REC_DW11, TLER, 0, 16)
FIELD(NVME_ERR_REC_DW11, DULBE, 16, 1)

/* base 5.27.1.9: Interrupt Vector Configuration */
FIELD(NVME_IRQ_CFG_DW11, IV, 0, 16)
FIELD(NVME_IRQ_CFG_DW11, CD, 16, 1)          /* coalescing disable */

/* base 5.27.1.7 Number of Queues: NSQR 15:0, NCQR 31:16, both 0's based */
FIELD(NVME_NUM_Q, NSQ, 0, 16)
FIELD(NVME_NUM_Q, NCQ, 16, 16)

/* base 5.27.1.8 Interrupt Coalescing */
FIELD(NVME_IRQ_COAL, THR, 0, 8)
FIELD(NVME_IRQ_COAL, TIME, 8, 8)

/* base 5.27.1.2 Power Management */
FIELD(NVME_POWER_MGMT, PS, 0, 5)
FIELD(NVME_POWER_MGMT, WH, 5, 3)

/* base 5.27.1.1 Arbitration */
FIELD(NVME_ARB, AB, 0, 3)                    /* burst, 2^n; 111b: no limit */
FIELD(NVME_ARB, LPW, 8, 8)
FIELD(NVME_ARB, MPW, 16, 8)
FIELD(NVME_ARB, HPW, 24, 8)
#define NVME_ARB_AB_NO_LIMIT    0x7

/* base 5.27.1.5 Volatile Write Cache */
FIELD(NVME_VWC_DW11, WCE, 0, 1)

/* base 5.27.1.10 Write Atomicity Normal */
FIELD(NVME_WRITE_ATOMICITY, DN, 0, 1)

/* base 5.27.1.12 Timestamp: an 8-byte buffer, read as a little-endian value */
FIELD(NVME_TIMESTAMP, TS, 0, 48)         /* milliseconds since the epoch */
FIELD(NVME_TIMESTAMP, SYNCH, 48, 1)      /* Get: the count may have stopped */
FIELD(NVME_TIMESTAMP, TO, 49, 3)         /* Get: timestamp origin */
#define NVME_TIMESTAMP_ORIGIN_RESET 0x0  /* zeroed by a controller reset */
#define NVME_TIMESTAMP_ORIGIN_HOST  0x1  /* set by Set Features */

/* base 5.27.1.21 I/O Command Set Profile */
FIELD(NVME_IOCS_PROFILE, IOCSCI, 0, 9)       /* index into Identify CNS 1Ch */

/* base 5.27.1.11 Asynchronous Event Configuration (dw11 bits) */
#define NVME_AEC_SMART_MASK     0xffu
#define NVME_AEC_NS_ATTR        (1u << 8)
#define NVME_AEC_FW_ACTIVATION  (1u << 9)
#define NVME_AEC_TELEMETRY      (1u << 10)
#define NVME_AEC_ANA_CHANGE     (1u << 11)

/* base 5.27.1.18: Host Behavior Support data (512 bytes) */
typedef struct QEMU_PACKED NvmeHostBehavior {
    uint8_t  acre;           /* advanced command retry enable */
    uint8_t  etdas, lbafee;
    uint8_t  rsvd3[509];
} NvmeHostBehavior;

/* base 5.2: Asynchronous Event Request completion dw0 */
FIELD(NVME_AER_DW0, TYPE, 0, 3)
FIELD(NVME_AER_DW0, INFO, 8, 8)
FIELD(NVME_AER_DW0, LID, 16, 8)

enum NvmeAsyncEventType {
    NVME_AER_TYPE_ERROR         = 0,
    NVME_AER_TYPE_SMART         = 1,
    NVME_AER_TYPE_NOTICE        = 2,
    NVME_AER_TYPE_IO_CMD_SET    = 6,
    NVME_AER_TYPE_VENDOR        = 7,
};

enum NvmeAsyncEventInfo {
    NVME_AER_INFO_ERR_INVALID_DB_REG    = 0x00,
    NVME_AER_INFO_ERR_INVALID_DB_VALUE  = 0x01,
    NVME_AER_INFO_SMART_RELIABILITY     = 0x00,
    NVME_AER_INFO_SMART_TEMP_THRESHOLD  = 0x01,
    NVME_AER_INFO_SMART_SPARE           = 0x02,
    NVME_AER_INFO_NOTICE_NS_ATTR        = 0x00,
    NVME_AER_INFO_NOTICE_FW_ACTIVATION  = 0x01,
    NVME_AER_INFO_NOTICE_ANA_CHANGE     = 0x03,
    NVME_AER_INFO_IO_RESV_LOG           = 0x00, /* log 80h has entries */
};

/* base 5.23: Format NVM */
FIELD(NVME_FORMAT_DW10, LBAFL, 0, 4)
FIELD(NVME_FORMAT_DW10, MSET, 4, 1)
FIELD(NVME_FORMAT_DW10, PI, 5, 3)
FIELD(NVME_FORMAT_DW10, PIL, 8, 1)
FIELD(NVME_FORMAT_DW10, SES, 9, 3)
FIELD(NVME_FORMAT_DW10, LBAFU, 12, 2)
#define NVME_FORMAT_SES_NONE        0
#define NVME_FORMAT_SES_USER_DATA   1
#define NVME_FORMAT_SES_CRYPTO      2

/* base 5.22: Namespace Attachment */
FIELD(NVME_NS_ATTACH_DW10, SEL, 0, 4)
#define NVME_NS_ATTACH          0
#define NVME_NS_DETACH          1

/*
 * base 5.20: Namespace Management; Create takes the host's fields of an
 * Identify Namespace structure (NSZE, NCAP, FLBAS, DPS, NMIC, ANAGRPID)
 */
FIELD(NVME_NS_MGMT_DW10, SEL, 0, 4)
FIELD(NVME_NS_MGMT_DW11, CSI, 24, 8)
#define NVME_NS_MGMT_CREATE     0
#define NVME_NS_MGMT_DELETE     1

/*
 * base 5.8: Doorbell Buffer Config: PRP1 shadow doorbells, PRP2 event indexes
 */

/* ---- nvm 3.3: NVM command set I/O commands ----------------------------- */

/* Read/Write/Compare/Verify/Write Zeroes: SLBA in cdw10-11, then cdw12 */
FIELD(NVME_RW_DW12, NLB, 0, 16)              /* 0's based */
FIELD(NVME_RW_DW12, STC, 24, 1)
FIELD(NVME_RW_DW12, DEAC, 25, 1)             /* Write Zeroes: deallocate */
FIELD(NVME_RW_DW12, PRINFO, 26, 4)
FIELD(NVME_RW_DW12, FUA, 30, 1)
FIELD(NVME_RW_DW12, LR, 31, 1)

/* nvm 3.3.2: Dataset Management */
FIELD(NVME_DSM_DW10, NR, 0, 8)               /* 0's based number of ranges */
FIELD(NVME_DSM_DW11, IDR, 0, 1)
FIELD(NVME_DSM_DW11, IDW, 1, 1)
FIELD(NVME_DSM_DW11, AD, 2, 1)               /* attribute: deallocate */

typedef struct QEMU_PACKED NvmeDsmRange {
    le32     cattr;
    le32     nlb;
    le64     slba;
} NvmeDsmRange;

/* nvm 3.3.1: Copy, with its Source Range Entries in format 0h */
FIELD(NVME_COPY_DW12, NR, 0, 8)              /* 0's based number of ranges */
FIELD(NVME_COPY_DW12, DESFMT, 8, 4)          /* descriptor format */
FIELD(NVME_COPY_DW12, FUA, 30, 1)
FIELD(NVME_COPY_DW12, LR, 31, 1)

typedef struct QEMU_PACKED NvmeCopyRange {
    uint8_t  rsvd0[8];
    le64     slba;
    le16     nlb;                            /* 0's based */
    uint8_t  rsvd18[14];                     /* no end-to-end protection */
} NvmeCopyRange;

/*
 * nvm 3.3.4-3.3.7 (base 8.19): Reservation Register, Report, Acquire and
 * Release. ACTION is RREGA, RACQA or RRELA; RTYPE is not in Register.
 */
FIELD(NVME_RESV_DW10, ACTION, 0, 3)
FIELD(NVME_RESV_DW10, IEKEY, 3, 1)           /* ignore existing key */
FIELD(NVME_RESV_DW10, RTYPE, 8, 8)
FIELD(NVME_RESV_DW10, CPTPL, 30, 2)          /* Register: change PTPL */
FIELD(NVME_RESV_REPORT_DW11, EDS, 0, 1)      /* extended data structure */

enum NvmeResvType {
    NVME_RESV_NONE              = 0,
    NVME_RESV_WRITE_EXCL        = 1,
    NVME_RESV_EXCL_ACCESS       = 2,
    NVME_RESV_WRITE_EXCL_REGS   = 3,    /* registrants only */
    NVME_RESV_EXCL_ACCESS_REGS  = 4,
    NVME_RESV_WRITE_EXCL_ALL    = 5,    /* all registrants */
    NVME_RESV_EXCL_ACCESS_ALL   = 6,
};

enum NvmeResvRegisterAction {
    NVME_RESV_REGISTER          = 0,
    NVME_RESV_UNREGISTER        = 1,
    NVME_RESV_REPLACE           = 2,
};

enum NvmeResvAcquireAction {
    NVME_RESV_ACQUIRE           = 0,
    NVME_RESV_PREEMPT           = 1,
    NVME_RESV_PREEMPT_ABORT     = 2,
};

enum NvmeResvReleaseAction {
    NVME_RESV_RELEASE           = 0,
    NVME_RESV_CLEAR             = 1,
};

/* CPTPL: 00b no change, 10b PTPL off, 11b PTPL on */
#define NVME_RESV_CPTPL_OFF     2
#define NVME_RESV_CPTPL_ON      3

/* The data of Register (CRKEY, NRKEY), Acquire (CRKEY, PRKEY), Release */
typedef struct QEMU_PACKED NvmeResvKeys {
    uint64_t crkey;
    uint64_t nkey;
} NvmeResvKeys;

/* nvm 3.3.6 Figure 66: the Reservation Status header (EDS: 64 bytes) */
typedef struct QEMU_PACKED NvmeResvStatus {
    uint32_t gen;
    uint8_t  rtype;
    uint16_t regctl;
    uint8_t  rsvd7[2];
    uint8_t  ptpls;
    uint8_t  rsvd10[14];
} NvmeResvStatus;

/* Registered Controller data structure, and its extended form */
typedef struct QEMU_PACKED NvmeResvCtrl {
    uint16_t cntlid;
    uint8_t  rcsts;                     /* bit 0: holds the reservation */
    uint8_t  rsvd3[5];
    uint8_t  hostid[8];
    uint64_t rkey;
} NvmeResvCtrl;

typedef struct QEMU_PACKED NvmeResvCtrlExt {
    uint16_t cntlid;
    uint8_t  rcsts;
    uint8_t  rsvd3[5];
    uint64_t rkey;
    uint8_t  hostid[16];
    uint8_t  rsvd32[32];
} NvmeResvCtrlExt;

#define NVME_RESV_STATUS_EXT_SIZE   64  /* header with EDS set */
#define NVME_RESV_CNTLID_UNKNOWN    0xffff

/* base 5.16.1.24: Reservation Notification log (one entry per read) */
typedef struct QEMU_PACKED NvmeResvNoticeLog {
    uint64_t count;
    uint8_t  type;
    uint8_t  nalp;                      /* entries still available */
    uint8_t  rsvd10[2];
    uint32_t nsid;
    uint8_t  rsvd16[48];
} NvmeResvNoticeLog;

enum NvmeResvNoticeType {
    NVME_RESV_NOTICE_EMPTY          = 0,
    NVME_RESV_NOTICE_REG_PREEMPTED  = 1,
    NVME_RESV_NOTICE_RELEASED       = 2,
    NVME_RESV_NOTICE_PREEMPTED      = 3,
};

/*
 * base 5.27.1.25-27: Host Identifier (EXHID: 128 bits), Reservation
 * Notification Mask (a set bit masks that notice type), Reservation
 * Persistence
 */
FIELD(NVME_FEAT_HOSTID_DW11, EXHID, 0, 1)
#define NVME_RESV_MASK_ALL      (BIT(NVME_RESV_NOTICE_REG_PREEMPTED) | \
                                 BIT(NVME_RESV_NOTICE_RELEASED) | \
                                 BIT(NVME_RESV_NOTICE_PREEMPTED))
FIELD(NVME_FEAT_RESV_PERSIST_DW11, PTPL, 0, 1)

/* ---- base 5.17.2.2: Identify Controller -------------------------------- */

typedef struct QEMU_PACKED NvmePowerState {
    le16     mp;            /* maximum power, centiwatts */
    uint8_t  rsvd2;
    uint8_t  flags;         /* MXPS bit 0, NOPS bit 1 */
    le32     enlat;
    le32     exlat;
    uint8_t  rrt, rrl, rwt, rwl;
    le16     idlp;
    uint8_t  ips, rsvd19;
    le16     actp;
    uint8_t  apws;
    uint8_t  rsvd23[9];
} NvmePowerState;

typedef struct QEMU_PACKED NvmeIdCtrl {
    /* controller capabilities and features */
    le16     vid;
    le16     ssvid;
    char     sn[20];
    char     mn[40];
    char     fr[8];
    uint8_t  rab;
    uint8_t  ieee[3];
    uint8_t  cmic, mdts;
    le16     cntlid;
    le32     ver;
    le32     rtd3r;
    le32     rtd3e;
    le32     oaes;
    le32     ctratt;
    le16     rrls;
    uint8_t  rsvd102[9];
    uint8_t  cntrltype;
    uint8_t  fguid[16];
    le16     crdt[3];
    uint8_t  rsvd134[119];
    uint8_t  nvmsr, vwci, mec;
    /* admin command set attributes */
    le16     oacs;
    uint8_t  acl, aerl, frmw, lpa;
    uint8_t  elpe, npss, avscc, apsta;
    le16     wctemp;
    le16     cctemp;
    le16     mtfa;
    le32     hmpre;
    le32     hmmin;
    uint8_t  tnvmcap[16];
    uint8_t  unvmcap[16];
    le32     rpmbs;
    le16     edstt;
    uint8_t  dsto, fwug;
    le16     kas;
    le16     hctma;
    le16     mntmt;
    le16     mxtmt;
    le32     sanicap;
    le32     hmminds;
    le16     hmmaxd;
    le16     nsetidmax;
    le16     endgidmax;
    uint8_t  anatt, anacap;
    le32     anagrpmax;
    le32     nanagrpid;
    le32     pels;
    le16     domainid;
    uint8_t  rsvd358[10];
    uint8_t  megcap[16];
    uint8_t  rsvd384[128];
    /* NVM command set attributes */
    uint8_t  sqes, cqes;
    le16     maxcmd;
    le32     nn;
    le16     oncs;
    le16     fuses;
    uint8_t  fna, vwc;
    le16     awun;
    le16     awupf;
    uint8_t  icsvscc, nwpc;
    le16     acwu;
    le16     ocfs;
    le32     sgls;
    le32     mnan;
    uint8_t  maxdna[16];
    le32     maxcna;
    uint8_t  rsvd564[204];
    char     subnqn[256];
    uint8_t  rsvd1024[768];
    uint8_t  nvmeof[256];
    NvmePowerState psd[32];
    uint8_t  vs[1024];
} NvmeIdCtrl;

/* CNTRLTYPE values */
#define NVME_CNTRLTYPE_IO       1
#define NVME_CNTRLTYPE_DISCOVERY 2
#define NVME_CNTRLTYPE_ADMIN    3

/* SQES / CQES: required (minimum) and maximum entry size, as log2 of bytes */
FIELD(NVME_QES, MIN, 0, 4)
FIELD(NVME_QES, MAX, 4, 4)

/* CMIC bits */
#define NVME_CMIC_MULTI_PORT    (1u << 0)
#define NVME_CMIC_MULTI_CTRL    (1u << 1)
#define NVME_CMIC_SRIOV         (1u << 2)
#define NVME_CMIC_ANA           (1u << 3)

/* OAES bits */
#define NVME_OAES_NS_ATTR       (1u << 8)
#define NVME_OAES_FW_ACTIVATION (1u << 9)
#define NVME_OAES_ANA_CHANGE    (1u << 11)

/* CTRATT bits */
#define NVME_CTRATT_HOSTID_128  (1u << 0)       /* 128-bit Host Identifier */

/* OACS bits */
#define NVME_OACS_SECURITY      (1u << 0)
#define NVME_OACS_FORMAT        (1u << 1)
#define NVME_OACS_FW            (1u << 2)
#define NVME_OACS_NS_MGMT       (1u << 3)
#define NVME_OACS_DBBUF         (1u << 8)

/* LPA bits */
#define NVME_LPA_NS_SMART       (1u << 0)
#define NVME_LPA_CMD_EFFECTS    (1u << 1)
#define NVME_LPA_EXTENDED       (1u << 2)
#define NVME_LPA_PERSISTENT_EVT (1u << 4)

/* ONCS bits */
#define NVME_ONCS_COMPARE       (1u << 0)
#define NVME_ONCS_WRITE_UNCORR  (1u << 1)
#define NVME_ONCS_DSM           (1u << 2)
#define NVME_ONCS_WRITE_ZEROES  (1u << 3)
#define NVME_ONCS_FEAT_SAVE     (1u << 4)
#define NVME_ONCS_RESERVATIONS  (1u << 5)
#define NVME_ONCS_TIMESTAMP     (1u << 6)
#define NVME_ONCS_VERIFY        (1u << 7)
#define NVME_ONCS_COPY          (1u << 8)

/* OCFS bits: Copy descriptor formats supported */
#define NVME_OCFS_FORMAT0       (1u << 0)

/* FNA bits: format and secure erase scope, crypto erase support */
#define NVME_FNA_FORMAT_ALL     (1u << 0)
#define NVME_FNA_SECURE_ALL     (1u << 1)
#define NVME_FNA_CRYPTO_ERASE   (1u << 2)

/*
 * VWC bits: present, and how flush with NSID FFFFFFFFh behaves
 * (10b: not supported)
 */
#define NVME_VWC_PRESENT        (1u << 0)
#define NVME_VWC_NSID_BCAST_NO  (2u << 1)
#define NVME_VWC_NSID_BCAST_OK  (3u << 1)

/* SGLS bits */
#define NVME_SGLS_SUPPORTED     (1u << 0)     /* no alignment requirement */
#define NVME_SGLS_BIT_BUCKET    (1u << 16)
#define NVME_SGLS_MPTR_SGL      (1u << 19)
#define NVME_SGLS_EXCESS_LEN    (1u << 18)

/* ANACAP bits */
#define NVME_ANACAP_OPTIMIZED       (1u << 0)
#define NVME_ANACAP_NON_OPTIMIZED   (1u << 1)
#define NVME_ANACAP_INACCESSIBLE    (1u << 2)
#define NVME_ANACAP_PERSISTENT_LOSS (1u << 3)
#define NVME_ANACAP_CHANGE          (1u << 4)
#define NVME_ANACAP_GRPID_STATIC    (1u << 6)  /* ANAGRPID does not change */
#define NVME_ANACAP_GRPID_NONZERO   (1u << 7)

/* CTRATT bits */
#define NVME_CTRATT_128BIT_HOSTID   (1u << 0)
#define NVME_CTRATT_UUID_LIST       (1u << 9)

/* FRMW: first slot read only bit 0, number of slots 3:1 */
#define NVME_FRMW_SLOT1_RO      (1u << 0)
#define NVME_FRMW_NSLOTS(n)     ((n) << 1)

/*
 * nvm 4.1.5.2 / CNS 06h, CSI 00h: NVM command set specific
 * Identify Controller
 */
typedef struct QEMU_PACKED NvmeIdCtrlNvm {
    uint8_t  vsl;           /* verify size limit, 2^n units of CAP.MPSMIN */
    uint8_t  wzsl;          /* write zeroes size limit */
    uint8_t  wusl;
    uint8_t  dmrl;          /* dataset management ranges limit */
    le32     dmrsl;         /* ... range size limit, in logical blocks */
    le64     dmsl;          /* ... size limit, in logical blocks */
    uint8_t  rsvd16[4080];
} NvmeIdCtrlNvm;

/* ---- nvm 4.1.5.1: Identify Namespace (CNS 00h) ------------------------- */

typedef struct QEMU_PACKED NvmeLbaFormat {
    le16     ms;            /* metadata size */
    uint8_t  lbads;         /* LBA data size, 2^n bytes */
    uint8_t  rp;            /* relative performance */
} NvmeLbaFormat;

typedef struct QEMU_PACKED NvmeIdNs {
    le64     nsze;
    le64     ncap;
    le64     nuse;
    uint8_t  nsfeat;
    uint8_t  nlbaf;         /* 0's based */
    uint8_t  flbas, mc, dpc, dps;
    uint8_t  nmic, rescap, fpi, dlfeat;
    le16     nawun;
    le16     nawupf;
    le16     nacwu;
    le16     nabsn;
    le16     nabo;
    le16     nabspf;
    le16     noiob;
    uint8_t  nvmcap[16];
    le16     npwg;
    le16     npwa;
    le16     npdg;
    le16     npda;
    le16     nows;
    le16     mssrl;
    le32     mcl;
    uint8_t  msrc, rsvd81, nulbaf;
    uint8_t  rsvd83[9];
    le32     anagrpid;
    uint8_t  rsvd96[3];
    uint8_t  nsattr;
    le16     nvmsetid;
    le16     endgid;
    uint8_t  nguid[16];
    uint8_t  eui64[8];
    NvmeLbaFormat lbaf[64];
    uint8_t  rsvd384[2688];
    uint8_t  vs[1024];
} NvmeIdNs;

#define NVME_NSFEAT_THIN        (1u << 0)
#define NVME_NSFEAT_NS_ATOMICS  (1u << 1)
#define NVME_NSFEAT_DEALLOC_ERR (1u << 2)
#define NVME_NSFEAT_OPT_PERF    (1u << 4)
#define NVME_NMIC_SHARED        (1u << 0)
/* nvm 4.1.5.1 RESCAP: bit N for reservation type N, IEKEY as of 1.3 */
#define NVME_RESCAP_PTPL        (1u << 0)
#define NVME_RESCAP_TYPES       0x7e
#define NVME_RESCAP_IEKEY       (1u << 7)
#define NVME_FLBAS_INDEX(flbas) ((flbas) & 0xf)
/*
 * DLFEAT: reading deallocated blocks returns zeroes (001b);
 * deallocate bit in Write Zeroes
 */
#define NVME_DLFEAT_READ_ZEROES 0x1
#define NVME_DLFEAT_WZ_DEAC     (1u << 3)

/* base 5.17.2.9: I/O command set independent Identify Namespace (CNS 08h) */
typedef struct QEMU_PACKED NvmeIdNsIndep {
    uint8_t  nsfeat, nmic, rescap, fpi;
    le32     anagrpid;
    uint8_t  nsattr, rsvd9;
    le16     nvmsetid;
    le16     endgid;
    uint8_t  nstat;
    uint8_t  rsvd15[4081];
} NvmeIdNsIndep;

#define NVME_NSTAT_READY        (1u << 0)

/* base 5.17.2.20: I/O Command Set data structure (CNS 1Ch): 512 combinations */
typedef struct QEMU_PACKED NvmeIdIoCmdSets {
    /* bit n: command set with CSI n in the combination */
    uint64_t iocsc[512];
} NvmeIdIoCmdSets;

#define NVME_IOCS_NVM           (1ull << NVME_CSI_NVM)

/* base 5.17.2.4: Namespace Identification Descriptor header */
typedef struct QEMU_PACKED NvmeNsIdDesc {
    uint8_t  nidt, nidl;
    uint8_t  rsvd[2];
} NvmeNsIdDesc;

enum NvmeNsIdType {
    NVME_NIDT_EUI64             = 0x01,
    NVME_NIDT_NGUID             = 0x02,
    NVME_NIDT_UUID              = 0x03,
    NVME_NIDT_CSI               = 0x04,
};

#define NVME_NIDL_EUI64         8
#define NVME_NIDL_NGUID         16
#define NVME_NIDL_UUID          16
#define NVME_NIDL_CSI           1

#define NVME_IDENTIFY_SIZE      4096
#define NVME_NSID_LIST_MAX      1024    /* entries in a 4 KiB namespace list */
/* entries after the count in a controller list */
#define NVME_CTRL_LIST_MAX      2047

/* ---- base 5.16.1: log pages -------------------------------------------- */

/* 5.16.1.2 Error Information entry */
typedef struct QEMU_PACKED NvmeErrorLogEntry {
    le64     error_count;
    le16     sqid;
    le16     cid;
    /* status field incl. phase tag position, as in the CQE */
    le16     status;
    le16     param_loc;     /* byte 7:0 and bit 10:8 of the failing field */
    le64     lba;
    le32     nsid;
    uint8_t  vs, trtype, csi, rsvd31;
    le64     cmd_specific;
    le16     trtype_spec;
    uint8_t  rsvd42[21];
    uint8_t  log_page_version;
} NvmeErrorLogEntry;

/* 5.16.1.3 SMART / Health Information */
typedef struct QEMU_PACKED NvmeSmartLog {
    uint8_t  critical_warning;
    le16     composite_temp;        /* kelvin */
    uint8_t  avail_spare, avail_spare_thresh, percent_used, endurance_group_cw;
    uint8_t  rsvd7[25];
    le64     data_units_read[2];    /* 1000 units of 512 bytes, 128-bit */
    le64     data_units_written[2];
    le64     host_read_cmds[2];
    le64     host_write_cmds[2];
    le64     ctrl_busy_time[2];
    le64     power_cycles[2];
    le64     power_on_hours[2];
    le64     unsafe_shutdowns[2];
    le64     media_errors[2];
    le64     num_err_log_entries[2];
    le32     warning_temp_time;
    le32     critical_temp_time;
    le16     temp_sensor[8];
    le32     thm_temp1_trans_count;
    le32     thm_temp2_trans_count;
    le32     thm_temp1_total_time;
    le32     thm_temp2_total_time;
    uint8_t  rsvd232[280];
} NvmeSmartLog;

#define NVME_SMART_WARN_SPARE       (1u << 0)
#define NVME_SMART_WARN_TEMPERATURE (1u << 1)
#define NVME_SMART_WARN_RELIABILITY (1u << 2)
#define NVME_SMART_WARN_READ_ONLY   (1u << 3)
#define NVME_SMART_WARN_VOLATILE_BK (1u << 4)

/* 5.16.1.4 Firmware Slot Information */
typedef struct QEMU_PACKED NvmeFwSlotLog {
    uint8_t  afi;
    uint8_t  rsvd1[7];
    char     frs[7][8];
    uint8_t  rsvd64[448];
} NvmeFwSlotLog;

/* 5.16.1.5 Changed Namespace List: up to 1024 NSIDs, or FFFFFFFFh first */
typedef struct QEMU_PACKED NvmeChangedNsLog {
    le32     nsid[NVME_NSID_LIST_MAX];
} NvmeChangedNsLog;

/* 5.16.1.6 Commands Supported and Effects */
typedef struct QEMU_PACKED NvmeEffectsLog {
    le32     acs[256];
    le32     iocs[256];
    uint8_t  rsvd2048[2048];
} NvmeEffectsLog;

#define NVME_EFF_CSUPP          (1u << 0)     /* command supported */
#define NVME_EFF_LBCC           (1u << 1)     /* logical block content change */
#define NVME_EFF_NCC            (1u << 2)     /* namespace capability change */
#define NVME_EFF_NIC            (1u << 3)     /* namespace inventory change */
#define NVME_EFF_CCC            (1u << 4)     /* controller capability change */
/* no other command to that ns at once */
#define NVME_EFF_CSE_SINGLE_NS  (1u << 16)

/* 5.16.1.1 Supported Log Pages: one dword per log id */
typedef struct QEMU_PACKED NvmeSupportedLogs {
    le32     lids[256];
} NvmeSupportedLogs;

#define NVME_LIDS_SUPPORTED     (1u << 0)
#define NVME_LIDS_LSI_SUPPORTED (1u << 1)

/* 5.16.1.12 Asymmetric Namespace Access */
typedef struct QEMU_PACKED NvmeAnaLogHeader {
    le64     chgcnt;
    le16     ngrps;         /* number of group descriptors */
    uint8_t  rsvd10[6];
} NvmeAnaLogHeader;

typedef struct QEMU_PACKED NvmeAnaGroupDesc {
    le32     grpid;
    le32     nnsids;        /* NSIDs that follow (0 with RGO) */
    le64     chgcnt;
    uint8_t  state;         /* bits 3:0 */
    uint8_t  rsvd17[15];
    /* followed by nnsids little-endian uint32_t NSIDs, ascending */
} NvmeAnaGroupDesc;

#define NVME_ANA_LSP_RGO        (1u << 0)     /* return groups only */

enum NvmeAnaState {
    NVME_ANA_OPTIMIZED          = 0x1,
    NVME_ANA_NON_OPTIMIZED      = 0x2,
    NVME_ANA_INACCESSIBLE       = 0x3,
    NVME_ANA_PERSISTENT_LOSS    = 0x4,
    NVME_ANA_CHANGE             = 0xf,
};

/* ---- build-time layout checks ------------------------------------------- */

#define NVME_CHECK_SIZE(type, size) \
    QEMU_BUILD_BUG_ON(sizeof(type) != (size))
#define NVME_CHECK_OFFSET(type, field, off) \
    QEMU_BUILD_BUG_ON(offsetof(type, field) != (off))

static inline void nvme_spec_layout_checks(void)
{
    NVME_CHECK_SIZE(NvmeSgl, 16);
    NVME_CHECK_SIZE(NvmeSqe, 64);
    NVME_CHECK_OFFSET(NvmeSqe, dptr, 24);
    NVME_CHECK_OFFSET(NvmeSqe, cdw10, 40);
    NVME_CHECK_SIZE(NvmeCqe, 16);
    NVME_CHECK_SIZE(NvmeDsmRange, 16);
    NVME_CHECK_SIZE(NvmeCopyRange, 32);
    NVME_CHECK_SIZE(NvmeResvKeys, 16);
    NVME_CHECK_SIZE(NvmeResvStatus, 24);
    NVME_CHECK_SIZE(NvmeResvCtrl, 24);
    NVME_CHECK_SIZE(NvmeResvCtrlExt, 64);
    NVME_CHECK_SIZE(NvmeResvNoticeLog, 64);
    NVME_CHECK_SIZE(NvmeHostBehavior, 512);
    NVME_CHECK_SIZE(NvmePowerState, 32);
    NVME_CHECK_SIZE(NvmeIdCtrl, 4096);
    NVME_CHECK_OFFSET(NvmeIdCtrl, cmic, 76);
    NVME_CHECK_OFFSET(NvmeIdCtrl, cntlid, 78);
    NVME_CHECK_OFFSET(NvmeIdCtrl, oaes, 92);
    NVME_CHECK_OFFSET(NvmeIdCtrl, cntrltype, 111);
    NVME_CHECK_OFFSET(NvmeIdCtrl, crdt, 128);
    NVME_CHECK_OFFSET(NvmeIdCtrl, oacs, 256);
    NVME_CHECK_OFFSET(NvmeIdCtrl, wctemp, 266);
    NVME_CHECK_OFFSET(NvmeIdCtrl, tnvmcap, 280);
    NVME_CHECK_OFFSET(NvmeIdCtrl, kas, 320);
    NVME_CHECK_OFFSET(NvmeIdCtrl, anatt, 342);
    NVME_CHECK_OFFSET(NvmeIdCtrl, anacap, 343);
    NVME_CHECK_OFFSET(NvmeIdCtrl, anagrpmax, 344);
    NVME_CHECK_OFFSET(NvmeIdCtrl, nanagrpid, 348);
    NVME_CHECK_OFFSET(NvmeIdCtrl, sqes, 512);
    NVME_CHECK_OFFSET(NvmeIdCtrl, nn, 516);
    NVME_CHECK_OFFSET(NvmeIdCtrl, oncs, 520);
    NVME_CHECK_OFFSET(NvmeIdCtrl, vwc, 525);
    NVME_CHECK_OFFSET(NvmeIdCtrl, sgls, 536);
    NVME_CHECK_OFFSET(NvmeIdCtrl, mnan, 540);
    NVME_CHECK_OFFSET(NvmeIdCtrl, subnqn, 768);
    NVME_CHECK_OFFSET(NvmeIdCtrl, psd, 2048);
    NVME_CHECK_SIZE(NvmeIdCtrlNvm, 4096);
    NVME_CHECK_SIZE(NvmeLbaFormat, 4);
    NVME_CHECK_SIZE(NvmeIdNs, 4096);
    NVME_CHECK_OFFSET(NvmeIdNs, nmic, 30);
    NVME_CHECK_OFFSET(NvmeIdNs, dlfeat, 33);
    NVME_CHECK_OFFSET(NvmeIdNs, nvmcap, 48);
    NVME_CHECK_OFFSET(NvmeIdNs, anagrpid, 92);
    NVME_CHECK_OFFSET(NvmeIdNs, nguid, 104);
    NVME_CHECK_OFFSET(NvmeIdNs, eui64, 120);
    NVME_CHECK_OFFSET(NvmeIdNs, lbaf, 128);
    NVME_CHECK_SIZE(NvmeIdNsIndep, 4096);
    NVME_CHECK_SIZE(NvmeIdIoCmdSets, 4096);
    NVME_CHECK_OFFSET(NvmeIdNsIndep, anagrpid, 4);
    NVME_CHECK_OFFSET(NvmeIdNsIndep, nstat, 14);
    NVME_CHECK_SIZE(NvmeNsIdDesc, 4);
    NVME_CHECK_SIZE(NvmeErrorLogEntry, 64);
    NVME_CHECK_OFFSET(NvmeErrorLogEntry, lba, 16);
    NVME_CHECK_OFFSET(NvmeErrorLogEntry, cmd_specific, 32);
    NVME_CHECK_SIZE(NvmeSmartLog, 512);
    NVME_CHECK_OFFSET(NvmeSmartLog, data_units_read, 32);
    NVME_CHECK_OFFSET(NvmeSmartLog, num_err_log_entries, 176);
    NVME_CHECK_OFFSET(NvmeSmartLog, temp_sensor, 200);
    NVME_CHECK_SIZE(NvmeFwSlotLog, 512);
    NVME_CHECK_SIZE(NvmeChangedNsLog, 4096);
    NVME_CHECK_SIZE(NvmeEffectsLog, 4096);
    NVME_CHECK_SIZE(NvmeSupportedLogs, 1024);
    NVME_CHECK_SIZE(NvmeAnaLogHeader, 16);
    NVME_CHECK_SIZE(NvmeAnaGroupDesc, 32);
}

#endif /* BLOCK_NVME_H */
