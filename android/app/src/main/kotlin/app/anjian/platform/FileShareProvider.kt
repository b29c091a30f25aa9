package app.anjian.platform

import android.content.ContentProvider
import android.content.ContentValues
import android.content.Context
import android.database.Cursor
import android.database.MatrixCursor
import android.net.Uri
import android.os.ParcelFileDescriptor
import android.provider.OpenableColumns
import app.anjian.logic.isSafeFileName
import java.io.File
import java.io.FileNotFoundException

/**
 * Hands single files to other apps by content URI, the only way since Android 7: the camera
 * app writes a photo into `camera/`, a share target reads a PDF from `documents/`. It does what
 * androidx's FileProvider would (which needs aapt2 to build), for two fixed folders and plain
 * file names only.
 */
class FileShareProvider : ContentProvider() {
    override fun onCreate(): Boolean = true

    private fun resolve(uri: Uri): Pair<String, File> {
        val segments = uri.pathSegments
        val context = context ?: throw FileNotFoundException("no context")
        if (segments.size != 2 || !isSafeFileName(segments[1])) throw FileNotFoundException(uri.toString())
        val folder = when (segments[0]) {
            CAMERA -> cameraDir(context)
            DOCUMENTS -> documentsDir(context)
            else -> throw FileNotFoundException(uri.toString())
        }
        return segments[0] to File(folder, segments[1])
    }

    override fun openFile(uri: Uri, mode: String): ParcelFileDescriptor {
        val (root, file) = resolve(uri)
        // Only the camera may write, and only into the camera folder.
        if (root != CAMERA && mode != "r") throw SecurityException("read-only: $uri")
        return ParcelFileDescriptor.open(file, ParcelFileDescriptor.parseMode(mode))
    }

    override fun query(uri: Uri, projection: Array<out String>?, selection: String?, selectionArgs: Array<out String>?, sortOrder: String?): Cursor {
        val (_, file) = resolve(uri)
        val columns = projection ?: arrayOf(OpenableColumns.DISPLAY_NAME, OpenableColumns.SIZE)
        val cursor = MatrixCursor(columns, 1)
        cursor.addRow(columns.map { column ->
            when (column) {
                OpenableColumns.DISPLAY_NAME -> file.name
                OpenableColumns.SIZE -> file.length()
                else -> null
            }
        })
        return cursor
    }

    override fun getType(uri: Uri): String = when (uri.lastPathSegment?.substringAfterLast('.')?.lowercase()) {
        "jpg", "jpeg" -> "image/jpeg"
        "pdf" -> "application/pdf"
        else -> "application/octet-stream"
    }

    override fun insert(uri: Uri, values: ContentValues?): Uri? = throw UnsupportedOperationException("insert")

    override fun delete(uri: Uri, selection: String?, selectionArgs: Array<out String>?): Int = throw UnsupportedOperationException("delete")

    override fun update(uri: Uri, values: ContentValues?, selection: String?, selectionArgs: Array<out String>?): Int =
        throw UnsupportedOperationException("update")

    companion object {
        const val AUTHORITY = "app.anjian.files"
        private const val CAMERA = "camera"
        private const val DOCUMENTS = "documents"

        // In files/, not cache/: a photo is evidence and must survive until it is in the store.
        fun cameraDir(context: Context): File = File(context.filesDir, CAMERA).apply { mkdirs() }

        fun documentsDir(context: Context): File = File(context.cacheDir, DOCUMENTS).apply { mkdirs() }

        fun cameraUri(name: String): Uri = Uri.parse("content://$AUTHORITY/$CAMERA/" + Uri.encode(name))

        fun documentUri(name: String): Uri = Uri.parse("content://$AUTHORITY/$DOCUMENTS/" + Uri.encode(name))
    }
}
