package app.anjian.platform

/** Keys of the app's own settings; everything about records lives in the store instead. */
object Prefs {
    const val FILE = "anjian"
    const val PRINTER_ADDRESS = "printer.address"
    const val PAPER_WIDTH = "printer.width_mm"
    const val RASTER = "printer.raster"
    const val LAST_SERVER = "login.server"
    const val LAST_ACCOUNT = "login.account"
    const val LAST_COLLEAGUES = "inspection.colleagues"
}
