package dev.offload.cl;

/**
 * The OpenCL constants the API layer passes to a binding (values from the OpenCL 3.0 cl.h and
 * cl_ext.h). The Panama binding's jextract-generated constants are checked against these in tests.
 */
public final class Cl {
    private Cl() {}

    // Device types (cl_device_type is a 64-bit bitfield; ALL is 0xFFFFFFFF, not -1).
    public static final long DEVICE_TYPE_DEFAULT = 1L << 0;
    public static final long DEVICE_TYPE_CPU = 1L << 1;
    public static final long DEVICE_TYPE_GPU = 1L << 2;
    public static final long DEVICE_TYPE_ACCELERATOR = 1L << 3;
    public static final long DEVICE_TYPE_CUSTOM = 1L << 4;
    public static final long DEVICE_TYPE_ALL = 0xFFFFFFFFL;

    // clGetPlatformInfo
    public static final int PLATFORM_PROFILE = 0x0900;
    public static final int PLATFORM_VERSION = 0x0901;
    public static final int PLATFORM_NAME = 0x0902;
    public static final int PLATFORM_VENDOR = 0x0903;
    public static final int PLATFORM_EXTENSIONS = 0x0904;

    // clGetDeviceInfo
    public static final int DEVICE_TYPE = 0x1000;
    public static final int DEVICE_VENDOR_ID = 0x1001;
    public static final int DEVICE_MAX_COMPUTE_UNITS = 0x1002;
    public static final int DEVICE_MAX_WORK_ITEM_DIMENSIONS = 0x1003;
    public static final int DEVICE_MAX_WORK_GROUP_SIZE = 0x1004;
    public static final int DEVICE_MAX_WORK_ITEM_SIZES = 0x1005;
    public static final int DEVICE_PREFERRED_VECTOR_WIDTH_CHAR = 0x1006;
    public static final int DEVICE_PREFERRED_VECTOR_WIDTH_INT = 0x1008;
    public static final int DEVICE_PREFERRED_VECTOR_WIDTH_FLOAT = 0x100A;
    public static final int DEVICE_MAX_CLOCK_FREQUENCY = 0x100C;
    public static final int DEVICE_MAX_MEM_ALLOC_SIZE = 0x1010;
    public static final int DEVICE_MEM_BASE_ADDR_ALIGN = 0x1019;
    public static final int DEVICE_GLOBAL_MEM_CACHE_SIZE = 0x101E;
    public static final int DEVICE_GLOBAL_MEM_SIZE = 0x101F;
    public static final int DEVICE_MAX_CONSTANT_BUFFER_SIZE = 0x1020;
    public static final int DEVICE_LOCAL_MEM_SIZE = 0x1023;
    public static final int DEVICE_PROFILING_TIMER_RESOLUTION = 0x1025;
    public static final int DEVICE_NAME = 0x102B;
    public static final int DEVICE_VENDOR = 0x102C;
    public static final int DRIVER_VERSION = 0x102D;
    public static final int DEVICE_VERSION = 0x102F;
    public static final int DEVICE_EXTENSIONS = 0x1030;
    public static final int DEVICE_DOUBLE_FP_CONFIG = 0x1032;
    public static final int DEVICE_HALF_FP_CONFIG = 0x1033;
    public static final int DEVICE_OPENCL_C_VERSION = 0x103D;
    public static final int DEVICE_MAX_NUM_SUB_GROUPS = 0x105C;
    public static final int DEVICE_INTEGER_DOT_PRODUCT_CAPABILITIES_KHR = 0x1073;
    public static final int DEVICE_INTEGER_DOT_PRODUCT_ACCELERATION_PROPERTIES_8BIT_KHR = 0x1074;
    public static final int DEVICE_INTEGER_DOT_PRODUCT_ACCELERATION_PROPERTIES_4x8BIT_PACKED_KHR = 0x1075;

    // Queues
    public static final long QUEUE_PROPERTIES = 0x1093;
    public static final long QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE = 1L << 0;
    public static final long QUEUE_PROFILING_ENABLE = 1L << 1;

    // Memory flags
    public static final long MEM_READ_WRITE = 1L << 0;
    public static final long MEM_WRITE_ONLY = 1L << 1;
    public static final long MEM_READ_ONLY = 1L << 2;

    // Programs
    public static final int PROGRAM_NUM_DEVICES = 0x1162;
    public static final int PROGRAM_BINARY_SIZES = 0x1165;
    public static final int PROGRAM_BINARIES = 0x1166;
    public static final int PROGRAM_NUM_KERNELS = 0x1167;
    public static final int PROGRAM_KERNEL_NAMES = 0x1168;
    public static final int PROGRAM_BUILD_STATUS = 0x1181;
    public static final int PROGRAM_BUILD_OPTIONS = 0x1182;
    public static final int PROGRAM_BUILD_LOG = 0x1183;

    // Kernels
    public static final int KERNEL_FUNCTION_NAME = 0x1190;
    public static final int KERNEL_NUM_ARGS = 0x1191;
    public static final int KERNEL_ATTRIBUTES = 0x1195;
    public static final int KERNEL_ARG_ADDRESS_QUALIFIER = 0x1196;
    public static final int KERNEL_ARG_TYPE_NAME = 0x1198;
    public static final int KERNEL_ARG_NAME = 0x119A;
    public static final int KERNEL_ARG_ADDRESS_GLOBAL = 0x119B;
    public static final int KERNEL_ARG_ADDRESS_LOCAL = 0x119C;
    public static final int KERNEL_ARG_ADDRESS_CONSTANT = 0x119D;
    public static final int KERNEL_ARG_ADDRESS_PRIVATE = 0x119E;
    public static final int KERNEL_WORK_GROUP_SIZE = 0x11B0;
    public static final int KERNEL_COMPILE_WORK_GROUP_SIZE = 0x11B1;
    public static final int KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE = 0x11B3;

    // Events and profiling
    public static final int EVENT_COMMAND_EXECUTION_STATUS = 0x11D3;
    public static final int COMPLETE = 0x0;
    public static final int PROFILING_COMMAND_QUEUED = 0x1280;
    public static final int PROFILING_COMMAND_SUBMIT = 0x1281;
    public static final int PROFILING_COMMAND_START = 0x1282;
    public static final int PROFILING_COMMAND_END = 0x1283;
}
