package app.anjian.platform

import android.annotation.SuppressLint
import android.bluetooth.BluetoothAdapter
import android.bluetooth.BluetoothClass
import android.bluetooth.BluetoothDevice
import android.bluetooth.BluetoothManager
import android.bluetooth.BluetoothSocket
import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import app.anjian.ffi.AnjianException
import app.anjian.ffi.DeviceStore
import app.anjian.ffi.DocumentType
import app.anjian.ffi.PrintPacing
import app.anjian.ffi.PrintReport
import app.anjian.ffi.ThermalLayout
import app.anjian.logic.BLUETOOTH_RUNTIME_SDK
import app.anjian.logic.PERMISSION_BLUETOOTH_CONNECT
import app.anjian.logic.PERMISSION_BLUETOOTH_SCAN
import app.anjian.logic.TimedOutputSink
import java.io.IOException
import java.util.Timer
import java.util.UUID
import kotlin.concurrent.schedule

/** A paired device the inspector may print to. */
data class PairedPrinter(val name: String, val address: String, val looksLikePrinter: Boolean)

/**
 * Thermal printing over Bluetooth SPP (RFCOMM), the link portable receipt printers offer.
 * Core renders and paces the job; this only finds the paired printer, opens the socket and
 * gives core a sink over it.
 */
class BluetoothPrinting(private val context: Context) {
    private val adapter: BluetoothAdapter? =
        context.getSystemService(BluetoothManager::class.java)?.adapter

    val available: Boolean get() = adapter != null

    // Before Android 12, BLUETOOTH and BLUETOOTH_ADMIN are install-time permissions.
    fun canConnect(): Boolean =
        Build.VERSION.SDK_INT < BLUETOOTH_RUNTIME_SDK ||
            context.checkSelfPermission(PERMISSION_BLUETOOTH_CONNECT) == PackageManager.PERMISSION_GRANTED

    private fun canScan(): Boolean =
        Build.VERSION.SDK_INT < BLUETOOTH_RUNTIME_SDK ||
            context.checkSelfPermission(PERMISSION_BLUETOOTH_SCAN) == PackageManager.PERMISSION_GRANTED

    @SuppressLint("MissingPermission") // canConnect() is checked first
    fun enabled(): Boolean = canConnect() && adapter?.isEnabled == true

    /** Paired devices, printers (imaging class) first; pairing itself is done in system settings. */
    @SuppressLint("MissingPermission") // canConnect() is checked first
    fun pairedPrinters(): List<PairedPrinter> {
        if (!canConnect()) return emptyList()
        val devices = adapter?.bondedDevices.orEmpty()
        return devices.map { device ->
            val major = device.bluetoothClass?.majorDeviceClass
            PairedPrinter(device.name ?: device.address, device.address, major == BluetoothClass.Device.Major.IMAGING)
        }.sortedWith(compareByDescending<PairedPrinter> { it.looksLikePrinter }.thenBy { it.name })
    }

    /**
     * Prints a document on the printer at `address`: connects, lets core send the job through
     * a [TimedOutputSink], waits for the tail to leave the radio, and closes. Blocking: call it
     * on an IO thread. Failures come as [AnjianException.Printer] with a Chinese reason.
     */
    @SuppressLint("MissingPermission") // canConnect() is checked first
    fun print(
        store: DeviceStore,
        address: String,
        recordId: String,
        docType: DocumentType,
        layout: ThermalLayout,
        pacing: PrintPacing,
    ): PrintReport {
        val radio = adapter ?: throw printerError("本机没有蓝牙")
        if (!canConnect()) throw printerError("未获得蓝牙权限，无法连接打印机")
        if (!radio.isEnabled) throw printerError("蓝牙未打开")
        val device = try {
            radio.getRemoteDevice(address)
        } catch (_: IllegalArgumentException) {
            throw printerError("打印机地址 $address 无效")
        }
        // A running discovery takes most of the radio's time and makes RFCOMM connects fail.
        if (canScan()) radio.cancelDiscovery()
        val socket = connect(device)
        try {
            val report = TimedOutputSink(socket.outputStream, pacing.timeoutMillis.toLong(), onTimeout = { socket.close() }).use { sink ->
                store.printDocument(recordId, docType, layout, sink, pacing)
            }
            // flush() returns once the bytes are queued in the Bluetooth stack, not sent:
            // closing at once can cut off the job's tail, the paper cut among it.
            Thread.sleep(LINGER_MILLIS)
            return report
        } finally {
            runCatching { socket.close() }
        }
    }

    /** Secure RFCOMM first; many cheap printers only accept the insecure (unauthenticated) link. */
    @SuppressLint("MissingPermission")
    private fun connect(device: BluetoothDevice): BluetoothSocket {
        var last: IOException? = null
        for (secure in listOf(true, false)) {
            val socket = if (secure) {
                device.createRfcommSocketToServiceRecord(SPP_UUID)
            } else {
                device.createInsecureRfcommSocketToServiceRecord(SPP_UUID)
            }
            // connect() has no timeout of its own; closing the socket is what ends it.
            val watchdog = Timer("printer-connect", true).apply { schedule(CONNECT_TIMEOUT_MILLIS) { runCatching { socket.close() } } }
            try {
                socket.connect()
                return socket
            } catch (e: IOException) {
                last = e
                runCatching { socket.close() }
            } finally {
                watchdog.cancel()
            }
        }
        val name = runCatching { device.name }.getOrNull() ?: device.address
        throw printerError("无法连接打印机 $name：${last?.message ?: "未知原因"}（打印机是否开机、是否被其他设备占用？）")
    }

    private fun printerError(reason: String) = AnjianException.Printer(0u, 0u, reason)

    companion object {
        /** The Serial Port Profile, which Bluetooth receipt printers expose. */
        val SPP_UUID: UUID = UUID.fromString("00001101-0000-1000-8000-00805F9B34FB")
        const val CONNECT_TIMEOUT_MILLIS = 15_000L
        const val LINGER_MILLIS = 800L
    }
}
