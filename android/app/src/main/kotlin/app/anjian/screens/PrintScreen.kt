package app.anjian.screens

import android.bluetooth.BluetoothAdapter
import android.content.Intent
import android.net.Uri
import android.os.Build
import android.provider.Settings
import android.view.View
import android.widget.CheckBox
import android.widget.LinearLayout
import app.anjian.ffi.DocumentType
import app.anjian.ffi.PrintReport
import app.anjian.ffi.defaultPrintPacing
import app.anjian.logic.PAPER_WIDTHS_MM
import app.anjian.logic.bluetoothRuntimePermissions
import app.anjian.logic.printedText
import app.anjian.logic.thermalLayout
import app.anjian.logic.userMessage
import app.anjian.platform.BluetoothPrinting
import app.anjian.platform.PairedPrinter
import app.anjian.platform.Prefs
import app.anjian.ui.Palette
import app.anjian.ui.Screen
import app.anjian.ui.TOUCH_DP
import app.anjian.ui.button
import app.anjian.ui.buttonRow
import app.anjian.ui.chosen
import app.anjian.ui.column
import app.anjian.ui.divider
import app.anjian.ui.dp
import app.anjian.ui.heading
import app.anjian.ui.message
import app.anjian.ui.scrolling
import app.anjian.ui.text

/**
 * Prints a document on a paired Bluetooth thermal printer: both copies (一式两联), or copy 2
 * again for the enterprise when its copy came out damaged. The printer, paper width and
 * raster mode are remembered for the next document.
 */
class PrintScreen(
    private val recordId: String,
    private val docType: DocumentType,
    private val docTitle: String,
    private val number: String,
) : Screen() {
    override val title = "热敏打印"

    private var status: String? = null
    private var statusColor = Palette.MUTED
    private var askedOnce = false

    private fun bluetooth() = BluetoothPrinting(host.activity)

    override fun build(): View {
        val ctx = host.activity
        val bluetooth = bluetooth()
        return ctx.scrolling(ctx.column {
            heading(docTitle)
            text(number, 18f, Palette.MUTED)
            divider()
            when {
                !bluetooth.available -> message("本机没有蓝牙，不能使用蓝牙打印机。", Palette.ERROR)
                !bluetooth.canConnect() -> {
                    message("连接蓝牙打印机需要“附近的设备”权限。", Palette.WARNING)
                    button("授予蓝牙权限") { askPermissions() }
                    if (askedOnce && !ctx.shouldShowRequestPermissionRationale(bluetoothRuntimePermissions(Build.VERSION.SDK_INT).first())) {
                        // Denied for good: Android no longer shows the dialog, only settings can grant it.
                        button("打开应用权限设置") {
                            val intent = Intent(Settings.ACTION_APPLICATION_DETAILS_SETTINGS, Uri.fromParts("package", ctx.packageName, null))
                            host.startForResult(intent, REQUEST_SETTINGS)
                        }
                    }
                }
                !bluetooth.enabled() -> {
                    message("蓝牙未打开。", Palette.WARNING)
                    button("打开蓝牙") { host.startForResult(Intent(BluetoothAdapter.ACTION_REQUEST_ENABLE), REQUEST_ENABLE) }
                }
                else -> printers(bluetooth.pairedPrinters())
            }
            status?.let { message(it, statusColor) }
        })
    }

    private fun LinearLayout.printers(printers: List<PairedPrinter>) {
        val prefs = host.prefs
        if (printers.isEmpty()) {
            message("没有已配对的蓝牙设备：请先在系统蓝牙设置中与打印机配对（常见配对码 0000 或 1234）。", Palette.WARNING)
        }
        val chosenAddress = prefs.getString(Prefs.PRINTER_ADDRESS, null)?.takeIf { address -> printers.any { it.address == address } }
            ?: printers.firstOrNull { it.looksLikePrinter }?.address
        text("打印机", 16f, Palette.MUTED)
        for (printer in printers) {
            val label = printer.name + "  " + printer.address + if (printer.looksLikePrinter) "" else "（非打印机类设备）"
            button(label) {
                prefs.edit().putString(Prefs.PRINTER_ADDRESS, printer.address).apply()
                refresh()
            }.chosen(printer.address == chosenAddress)
        }
        button("蓝牙设置（配对新打印机）") { host.startForResult(Intent(Settings.ACTION_BLUETOOTH_SETTINGS), REQUEST_SETTINGS) }

        val width = prefs.getInt(Prefs.PAPER_WIDTH, PAPER_WIDTHS_MM.first())
        text("纸宽", 16f, Palette.MUTED)
        buttonRow {
            for (mm in PAPER_WIDTHS_MM) {
                button("$mm mm", 1f) {
                    prefs.edit().putInt(Prefs.PAPER_WIDTH, mm).apply()
                    refresh()
                }.chosen(mm == width)
            }
        }
        val raster = prefs.getBoolean(Prefs.RASTER, false)
        val rasterBox = CheckBox(context).apply {
            text = "整页按图像打印（打印机不支持中文时使用，较慢）"
            textSize = 18f
            isChecked = raster
            minHeight = context.dp(TOUCH_DP)
            setOnCheckedChangeListener { _, checked -> prefs.edit().putBoolean(Prefs.RASTER, checked).apply() }
        }
        addView(rasterBox)
        divider()
        val address = chosenAddress
        if (address == null) {
            message("请选择打印机。", Palette.MUTED)
            return
        }
        button("打印（一式两联）") { print(address, width, reprint = false) }
        button("补打第二联（交被检查单位）") { print(address, width, reprint = true) }
    }

    private fun print(address: String, width: Int, reprint: Boolean) {
        val layout = thermalLayout(width, reprint, host.prefs.getBoolean(Prefs.RASTER, false))
        val bluetooth = bluetooth()
        status = null
        host.call<PrintReport>(
            busy = if (reprint) "正在补打第二联…" else "正在打印…",
            work = { store -> bluetooth.print(store, address, recordId, docType, layout, defaultPrintPacing()) },
            failed = { error ->
                status = userMessage(error)
                statusColor = Palette.ERROR
                refresh()
            },
        ) { report ->
            status = printedText(report, reprint)
            statusColor = Palette.GOOD
            refresh()
        }
    }

    private fun askPermissions() {
        askedOnce = true
        host.requestPermissions(bluetoothRuntimePermissions(Build.VERSION.SDK_INT), REQUEST_PERMISSIONS)
    }

    override fun onPermissions(requestCode: Int, granted: Map<String, Boolean>) {
        if (requestCode == REQUEST_PERMISSIONS) refresh()
    }

    override fun onResult(requestCode: Int, resultCode: Int, data: Intent?) {
        if (requestCode == REQUEST_ENABLE || requestCode == REQUEST_SETTINGS) refresh()
    }

    private companion object {
        const val REQUEST_PERMISSIONS = 31
        const val REQUEST_ENABLE = 32
        const val REQUEST_SETTINGS = 33
    }
}
