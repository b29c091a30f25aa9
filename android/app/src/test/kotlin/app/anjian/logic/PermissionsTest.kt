package app.anjian.logic

import org.junit.jupiter.api.Assertions.assertEquals
import org.junit.jupiter.api.Test

class PermissionsTest {
    @Test
    fun `bluetooth is asked for at run time from Android 12 only`() {
        assertEquals(listOf<String>(), bluetoothRuntimePermissions(26))
        assertEquals(listOf<String>(), bluetoothRuntimePermissions(30))
        assertEquals(
            listOf("android.permission.BLUETOOTH_CONNECT", "android.permission.BLUETOOTH_SCAN"),
            bluetoothRuntimePermissions(31),
        )
        assertEquals(2, bluetoothRuntimePermissions(34).size)
    }
}
