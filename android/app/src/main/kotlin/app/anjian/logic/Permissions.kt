package app.anjian.logic

const val PERMISSION_BLUETOOTH_CONNECT = "android.permission.BLUETOOTH_CONNECT"
const val PERMISSION_BLUETOOTH_SCAN = "android.permission.BLUETOOTH_SCAN"
const val PERMISSION_CAMERA = "android.permission.CAMERA"

/** Android 12 (API 31) made Bluetooth access a runtime permission. */
const val BLUETOOTH_RUNTIME_SDK = 31

/**
 * The Bluetooth permissions to ask for at run time. From Android 12, CONNECT lists paired
 * printers and opens the socket, SCAN stops a running discovery that would slow the connection.
 * Before it, BLUETOOTH and BLUETOOTH_ADMIN are granted at install and nothing is asked.
 */
fun bluetoothRuntimePermissions(sdkInt: Int): List<String> =
    if (sdkInt >= BLUETOOTH_RUNTIME_SDK) listOf(PERMISSION_BLUETOOTH_CONNECT, PERMISSION_BLUETOOTH_SCAN) else emptyList()
