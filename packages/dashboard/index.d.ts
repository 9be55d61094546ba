/** Absolute path of the built single-page app (index.html and assets/). */
export declare const dashboardDir: string;
