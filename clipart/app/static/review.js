// keyboard shortcuts of the review page: j/k move, a accept, r reject, u not sure, s skip, z undo, n next, / add
(function(){
  const rows=[...document.querySelectorAll('tr[data-attr]')]; let i=rows.findIndex(r=>!r.dataset.state&&r.dataset.proposed==='1'); if(i<0)i=0;
  const show=()=>rows.forEach((r,k)=>r.classList.toggle('focus',k===i)); show();
  const send=(id)=>{const el=document.getElementById(id); if(!el)return; if(el.tagName==='FORM')el.submit(); else el.click();};
  document.addEventListener('keydown',e=>{
    if(e.target.tagName==='INPUT'||e.ctrlKey||e.metaKey||e.altKey)return;
    const k=e.key, r=rows[i];
    if(k==='j'||k==='ArrowDown'){i=Math.min(i+1,rows.length-1);show();}
    else if(k==='k'||k==='ArrowUp'){i=Math.max(i-1,0);show();}
    else if(k==='a'&&r)send('accept-'+r.dataset.n); else if(k==='r'&&r)send('reject-'+r.dataset.n);
    else if(k==='u')send('unsure'); else if(k==='s')send('skip'); else if(k==='z')send('undo');
    else if(k==='n'){const a=document.getElementById('next'); if(a)location.href=a.href;}
    else if(k==='/'){document.getElementById('add-value').focus();}
    else return;
    e.preventDefault();
  });
})();
